#!/bin/bash
# Smoke test through the gateway against `conectar dev` (real auth, professionals and the
# payments sandbox). Start dev with ADMIN_EMAIL=admin@example.com
# ADMIN_PASSWORD=admin-password-1 first. Needs curl and jq.
# Cancel after payment (refund) and disputes resolved for either side.
set -u
B=http://localhost:8000/api/v1
R=$RANDOM
j() { curl -s -H 'Content-Type: application/json' "$@"; }
reg() { j -X POST $B/auth/register -d "{\"email\":\"$1\",\"password\":\"password-123\",\"nombre\":\"$2\",\"apellido\":\"E2E\",\"rol\":\"$3\"}" >/dev/null; j -X POST $B/auth/login -d "{\"email\":\"$1\",\"password\":\"password-123\"}" | jq -r .access_token; }
CT=$(reg cli$R@example.com Ana CLIENTE)
PT=$(reg pro$R@example.com Juan PROFESIONAL)
AT=$(j -X POST $B/auth/login -d '{"email":"admin@example.com","password":"admin-password-1"}' | jq -r .access_token)
PID=$(curl -s -H "Authorization: Bearer $PT" $B/users/me | jq -r .id)
CID=$(curl -s -H "Authorization: Bearer $CT" $B/users/me | jq -r .id)
curl -s -H "Authorization: Bearer $PT" -F "files=@/tmp/kyc.pdf;type=application/pdf" $B/professional/kyc/upload >/dev/null
PROF=$(curl -s -H "Authorization: Bearer $PT" $B/professional/kyc/status | jq -r .profesional_id)
curl -s -X POST -H "Authorization: Bearer $AT" $B/admin/kyc/approve/$PROF >/dev/null
j -X PUT -H "Authorization: Bearer $PT" $B/professional/payout-info -d '{"payout_account":"juan.e2e.mp"}' >/dev/null
CHAT=$(j -X POST -H "Authorization: Bearer $CT" $B/chat/conversations -d "{\"profesional_id\":\"$PID\"}" | jq -r .chat_id)
sleep 1
paidjob() {
  OID=$(j -X POST -H "Authorization: Bearer $PT" $B/ofertas -d "{\"cliente_id\":\"$CID\",\"chat_id\":\"$CHAT\",\"descripcion\":\"Pintura de living completo\",\"precio_final\":$1}" | jq -r .id)
  JOB=$(curl -s -X POST -H "Authorization: Bearer $CT" $B/cliente/ofertas/$OID/accept | jq -r .trabajo_id)
  curl -s -X POST -H "Authorization: Bearer $AT" $B/admin/trabajo/$JOB/simular-pago >/dev/null
  for i in $(seq 1 50); do E=$(curl -s -H "Authorization: Bearer $CT" $B/trabajos/$JOB | jq -r .estado); [ "$E" = PAGADO ] && break; sleep 0.2; done
  echo $JOB
}
J1=$(paidjob 3000)
echo "cancel paid:"; curl -s -w ' HTTP%{http_code}\n' -X POST -H "Authorization: Bearer $CT" $B/cliente/trabajo/$J1/cancelar | jq -c '{refund_id, mensaje, e:.trabajo.estado_escrow}' 2>/dev/null || true
J2=$(paidjob 4000)
D=$(j -X POST -H "Authorization: Bearer $CT" $B/disputas -d "{\"trabajo_id\":\"$J2\",\"tipo\":\"NO_REALIZADO\",\"descripcion\":\"Nunca vino a pintar\"}" | jq -r .id)
echo "dispute $D"
j -X POST -H "Authorization: Bearer $AT" $B/disputas/$D/resolver -d '{"a_favor":"cliente","resolucion":"Se reembolsa al cliente"}' | jq -c '{mensaje}'
for i in $(seq 1 50); do E=$(curl -s -H "Authorization: Bearer $CT" $B/trabajos/$J2 | jq -r .estado_escrow); [ "$E" = CANCELADO_REEMBOLSADO ] && break; sleep 0.2; done
echo "after dispute for client: $E"
J3=$(paidjob 5000)
D=$(j -X POST -H "Authorization: Bearer $PT" $B/disputas -d "{\"trabajo_id\":\"$J3\",\"tipo\":\"OTRO\",\"descripcion\":\"El cliente no aprueba\"}" | jq -r .id)
j -X POST -H "Authorization: Bearer $AT" $B/disputas/$D/resolver -d '{"a_favor":"profesional","resolucion":"Trabajo bien hecho"}' | jq -c '{mensaje}'
for i in $(seq 1 50); do E=$(curl -s -H "Authorization: Bearer $CT" $B/trabajos/$J3 | jq -r .estado_escrow); [ "$E" = LIBERADO ] && break; sleep 0.2; done
echo "after dispute for pro: $E"
curl -s -H "Authorization: Bearer $CT" $B/trabajos/$J3/timeline | jq -r '.[] | "\(.tipo) \(.estado_anterior)->\(.estado_nuevo) \(.descripcion)"'
