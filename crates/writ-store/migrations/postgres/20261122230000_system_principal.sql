-- writ itself, as a principal: the requester of what writ starts on its own (handing an
-- identity to a fallback owner when its owner leaves). Its id is `PrincipalId::SYSTEM`.
INSERT INTO principals (id, external_id, email, name, manager_id, groups, active, created_at, updated_at)
VALUES ('00000000-0000-7000-8000-000077726974', 'writ:system', 'writ@writ.invalid', 'writ', NULL, '[]', TRUE, 0, 0);
