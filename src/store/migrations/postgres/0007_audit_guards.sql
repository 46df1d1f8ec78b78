-- The audit log's tables hold what the DPO relies on (issue 10, items 1,
-- 2 and 13). Every guard function names its tables with their schema and
-- runs with a fixed search_path: a temporary table of the same name
-- (pg_temp) cannot stand in for `audit_head`. The runtime role (see
-- `passerelle migrate --grant-runtime`) owns none of these tables, so it
-- can neither disable a trigger nor replace a function.
-- * an entry is deleted only by retention: below `prunable_below` and with
--   its leaf hash kept in `audit_pruned` first;
-- * an entry's household set (`audit_subjects`) is never updated and is
--   deleted only with the last entry naming it, once retention released
--   that entry; `audit verify` checks each set against the count and
--   digest committed in its entry;
-- * pruned leaves and signed checkpoints are never updated or deleted;
-- * the head's counters never go back and its row stays;
-- * no audit table can be truncated;
-- * `instance_keys`: fingerprints of the keys of the first instance that
--   opened the database (never a secret), so that an instance with other
--   keys refuses to start.

CREATE OR REPLACE FUNCTION public.audit_log_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit_log is append-only';
    END IF;
    IF OLD.seq >= (SELECT h.prunable_below FROM public.audit_head h WHERE h.id = 1)
       OR NOT EXISTS (SELECT 1 FROM public.audit_pruned p
                      WHERE p.seq = OLD.seq AND p.leaf_hash = OLD.leaf_hash) THEN
        RAISE EXCEPTION 'audit_log entries are kept until retention releases them';
    END IF;
    RETURN OLD;
END;
$$;

CREATE OR REPLACE FUNCTION public.audit_no_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'audit tables cannot be truncated';
END;
$$;

CREATE FUNCTION public.audit_subjects_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit_subjects is append-only';
    END IF;
    IF OLD.set_id >= (SELECT h.prunable_below FROM public.audit_head h WHERE h.id = 1)
       OR EXISTS (SELECT 1 FROM public.audit_log l WHERE l.subjects_set = OLD.set_id) THEN
        RAISE EXCEPTION 'audit_subjects sets are kept while an entry names them';
    END IF;
    RETURN OLD;
END;
$$;
CREATE TRIGGER audit_subjects_guard BEFORE UPDATE OR DELETE ON public.audit_subjects
    FOR EACH ROW EXECUTE FUNCTION public.audit_subjects_guard();

CREATE FUNCTION public.audit_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_pruned_append_only BEFORE UPDATE OR DELETE ON public.audit_pruned
    FOR EACH ROW EXECUTE FUNCTION public.audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON public.audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION public.audit_append_only();

CREATE FUNCTION public.audit_head_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_head is kept';
    END IF;
    IF NEW.id <> OLD.id OR NEW.next_seq < OLD.next_seq
       OR NEW.prunable_below < OLD.prunable_below THEN
        RAISE EXCEPTION 'audit_head counters never go back';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_head_guard BEFORE UPDATE OR DELETE ON public.audit_head
    FOR EACH ROW EXECUTE FUNCTION public.audit_head_guard();

CREATE TABLE public.instance_keys (
    name        TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    file        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TRIGGER instance_keys_append_only BEFORE UPDATE OR DELETE ON public.instance_keys
    FOR EACH ROW EXECUTE FUNCTION public.audit_append_only();

CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON public.audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION public.audit_no_truncate();
CREATE TRIGGER audit_pruned_no_truncate BEFORE TRUNCATE ON public.audit_pruned
    FOR EACH STATEMENT EXECUTE FUNCTION public.audit_no_truncate();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON public.audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION public.audit_no_truncate();
CREATE TRIGGER instance_keys_no_truncate BEFORE TRUNCATE ON public.instance_keys
    FOR EACH STATEMENT EXECUTE FUNCTION public.audit_no_truncate();
