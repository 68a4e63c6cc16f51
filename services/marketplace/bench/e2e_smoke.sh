#!/bin/bash
# Smoke test through the gateway against `conectar dev` (real auth, professionals and the
# payments sandbox). Start dev with ADMIN_EMAIL=admin@example.com
# ADMIN_PASSWORD=admin-password-1 first. Needs curl and jq.
# Journey: KYC, chat, offer, accept (payment_url), sandbox payment, work steps, finalizar, review.
set -u
B=http://localhost:8000/api/v1
R=$RANDOM
j() { curl -s -H 'Content-Type: application/json' "$@"; }
reg() { j -X POST $B/auth/register -d "{\"email\":\"$1\",\"password\":\"password-123\",\"nombre\":\"$2\",\"apellido\":\"E2E\",\"rol\":\"$3\"}" >/dev/null; j -X POST $B/auth/login -d "{\"email\":\"$1\",\"password\":\"password-123\"}" | jq -r .access_token; }
CT=$(reg cli$R@example.com Ana CLIENTE)
PT=$(reg pro$R@example.com Juan PROFESIONAL)
AT=$(j -X POST $B/auth/login -d '{"email":"admin@example.com","password":"admin-password-1"}' | jq -r .access_token)
PID=$(curl -s -H "Authorization: Bearer $PT" $B/users/me | jq -r .id)
echo "pro user $PID"
printf '%%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%%%EOF\n' > /tmp/kyc.pdf
curl -s -H "Authorization: Bearer $PT" -F "files=@/tmp/kyc.pdf;type=application/pdf" $B/professional/kyc/upload | head -c 200; echo
curl -s -X POST -H "Authorization: Bearer $PT" $B/professional/kyc/submit | head -c 200; echo
PROF=$(curl -s -H "Authorization: Bearer $AT" $B/admin/kyc/pendientes | jq -r '.[0].id')
echo "profile $PROF"
curl -s -X POST -H "Authorization: Bearer $AT" $B/admin/kyc/approve/$PROF | head -c 200; echo
j -X PUT -H "Authorization: Bearer $PT" $B/professional/payout-info -d '{"payout_account":"juan.e2e.mp"}' | head -c 200; echo
CHAT=$(j -X POST -H "Authorization: Bearer $CT" $B/chat/conversations -d "{\"profesional_id\":\"$PID\"}" | jq -r .chat_id)
CID=$(curl -s -H "Authorization: Bearer $CT" $B/users/me | jq -r .id)
echo "chat $CHAT client $CID"
sleep 1
OF=$(j -X POST -H "Authorization: Bearer $PT" $B/professional/ofertas -d "{\"cliente_id\":\"$CID\",\"chat_id\":\"$CHAT\",\"descripcion\":\"Cambio de cañería del baño\",\"precio_final\":25000}")
echo "offer $OF" | head -c 300; echo
OID=$(echo "$OF" | jq -r .id)
ACC=$(curl -s -w ' HTTP%{http_code}' -X POST -H "Authorization: Bearer $CT" $B/cliente/ofertas/$OID/accept)
echo "accept $ACC" | head -c 600; echo
JOB=$(echo "${ACC% HTTP*}" | jq -r .trabajo_id)
curl -s -w ' HTTP%{http_code}' -X POST -H "Authorization: Bearer $AT" $B/admin/trabajo/$JOB/simular-pago | head -c 300; echo
for i in $(seq 1 50); do E=$(curl -s -H "Authorization: Bearer $CT" $B/trabajos/$JOB | jq -r .estado); [ "$E" = PAGADO ] && break; sleep 0.2; done
echo "after payment: $E"
j -X PUT -H "Authorization: Bearer $PT" $B/trabajos/$JOB/status -d '{"estado":"EN_PROCESO"}' | jq -c '{estado}'
j -X PUT -H "Authorization: Bearer $PT" $B/trabajos/$JOB/status -d '{"estado":"COMPLETADO","nota":"Trabajo terminado y probado"}' | jq -c '{estado}'
curl -s -w ' HTTP%{http_code}' -X POST -H "Authorization: Bearer $CT" $B/cliente/trabajo/$JOB/finalizar | head -c 700; echo
j -X POST -H "Authorization: Bearer $CT" $B/resenas -d "{\"trabajo_id\":\"$JOB\",\"rating\":5,\"texto_resena\":\"Excelente\"}" | head -c 300; echo
curl -s $B/resenas/professional/$PROF | head -c 300; echo
sleep 1
curl -s $B/public/professional/$PROF | jq -c '{rating_promedio,total_resenas}'
curl -s -H "Authorization: Bearer $CT" "$B/chat/$CHAT/messages?limit=20" | jq -r '.[].text'
