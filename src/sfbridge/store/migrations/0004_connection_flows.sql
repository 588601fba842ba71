-- Server-to-server connections: a workspace picks its OAuth flow. The JWT bearer flow needs
-- the username to act as and a private key (sealed like the client secret); it has no
-- client secret, which is then stored as a sealed empty string.
ALTER TABLE sf_connections
    ADD COLUMN auth_flow text NOT NULL DEFAULT 'web_server'
        CHECK (auth_flow IN ('web_server', 'jwt_bearer', 'client_credentials')),
    ADD COLUMN jwt_username text,
    ADD COLUMN private_key_enc text,
    ADD CONSTRAINT sf_connections_jwt_setup_check
        CHECK (auth_flow <> 'jwt_bearer' OR (jwt_username IS NOT NULL AND private_key_enc IS NOT NULL));
