-- A key's allowed client addresses (SPEC §14.1): a JSON array of addresses and CIDR ranges;
-- NULL lets the key be used from anywhere.
ALTER TABLE project_api_keys ADD COLUMN allowed_ips TEXT;
