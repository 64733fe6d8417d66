-- Failed logins count per (user id, client) and per client, never per user id alone: wrong passwords from
-- one client must not lock the user out everywhere. Sign-ups are counted per client too.
DELETE FROM login_throttle WHERE scope = 'user';
ALTER TABLE login_throttle MODIFY scope ENUM('user_client', 'client', 'signup') NOT NULL;
