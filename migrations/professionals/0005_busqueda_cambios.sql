-- Every professionals process answers searches from an index of busqueda held in its
-- memory (services/professionals/search_index.go). busqueda_cambios tells it what to
-- reload: which professionals' rows each transaction inserted, updated or deleted, under
-- that transaction's id.
--
-- A process remembers the xmin of the snapshot it last read (every transaction with a
-- smaller id had finished by then, so its rows were in that read) and next reads the
-- professionals of every change with xid ≥ it. Ids are handed out in start order but
-- transactions commit in any order; reading by "id not yet finished" instead of "id
-- greater than the last seen" is what keeps a slow transaction's change from being
-- skipped. The triggers make the log complete whoever writes busqueda (refrescar_busqueda,
-- the bulk seed, a catalogue change, an operator).
CREATE TABLE busqueda_cambios (
    xid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
    profesional_id uuid,               -- null: the whole table was emptied (TRUNCATE)
    fecha          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX busqueda_cambios_xid ON busqueda_cambios (xid);
CREATE INDEX busqueda_cambios_fecha ON busqueda_cambios (fecha);

CREATE FUNCTION anotar_cambios_busqueda() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO busqueda_cambios (profesional_id) SELECT DISTINCT profesional_id FROM filas;
    RETURN NULL;
END
$$;

CREATE TRIGGER busqueda_cambios_insert AFTER INSERT ON busqueda
    REFERENCING NEW TABLE AS filas FOR EACH STATEMENT EXECUTE FUNCTION anotar_cambios_busqueda();
CREATE TRIGGER busqueda_cambios_update AFTER UPDATE ON busqueda
    REFERENCING NEW TABLE AS filas FOR EACH STATEMENT EXECUTE FUNCTION anotar_cambios_busqueda();
CREATE TRIGGER busqueda_cambios_delete AFTER DELETE ON busqueda
    REFERENCING OLD TABLE AS filas FOR EACH STATEMENT EXECUTE FUNCTION anotar_cambios_busqueda();

-- TRUNCATE has no transition table: it empties the index, so every process reloads whole.
CREATE FUNCTION anotar_vaciado_busqueda() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO busqueda_cambios (profesional_id) VALUES (NULL);
    RETURN NULL;
END
$$;
CREATE TRIGGER busqueda_cambios_truncate AFTER TRUNCATE ON busqueda
    FOR EACH STATEMENT EXECUTE FUNCTION anotar_vaciado_busqueda();
