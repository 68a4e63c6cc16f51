-- vaciar_replicas() is the first step of rebuilding what professionals keeps from other
-- contexts' events (docs/events.md, "Rebuilding professionals' read model"): it puts that
-- state back to what it was before any event, so that `conectar events rebuild` of the
-- five professionals-* handlers can apply the streams to it from the beginning.
--
-- Event-fed: the replicas (usuarios, resenas, medallas, trabajos_completados), the
-- columns of profesionales copied from them or from reviews (email, names, avatar, ban
-- state, level, commission, XP, rating) and the search rows built from those. Owned by
-- professionals and left alone: the profiles themselves, KYC, location, coverage, rates,
-- trades, portfolio and published services; the rebuild re-reads them to build the search
-- rows again.
--
-- The search_path of the migration is pinned so that an operator can call it as
-- professionals.vaciar_replicas() from any session.
CREATE FUNCTION vaciar_replicas() RETURNS void
    LANGUAGE sql
    SET search_path FROM CURRENT
    AS $$
    DELETE FROM usuarios;
    DELETE FROM resenas;
    DELETE FROM medallas;
    DELETE FROM trabajos_completados;
    UPDATE profesionales SET email = DEFAULT, nombre = DEFAULT, apellido = DEFAULT, avatar_url = DEFAULT,
        is_active = DEFAULT, nivel = DEFAULT, tasa_comision_bp = DEFAULT, puntos_experiencia = DEFAULT,
        rating_promedio = DEFAULT, total_resenas = DEFAULT;
    -- The search rows follow the reset columns (busqueda stays what busqueda_filas makes
    -- of the profiles); each rebuilt event refreshes its professional's rows again.
    SELECT refrescar_busqueda(ARRAY(SELECT id FROM profesionales));
    $$;
