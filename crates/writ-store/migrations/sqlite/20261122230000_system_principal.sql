-- writ itself, as a principal: the requester of what writ starts on its own (handing an
-- identity to a fallback owner when its owner leaves). Its id is `PrincipalId::SYSTEM`.
INSERT INTO principals (id, external_id, email, name, manager_id, groups, active, created_at, updated_at)
VALUES (X'00000000000070008000000077726974', 'writ:system', 'writ@writ.invalid', 'writ', NULL, '[]', 1, 0, 0);
