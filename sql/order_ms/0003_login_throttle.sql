-- Failed-login counters per user id and per client address, shared by every order-ms worker and replica.
CREATE TABLE IF NOT EXISTS login_throttle (
    scope ENUM('user', 'client') NOT NULL,
    subject VARCHAR(64) NOT NULL,
    failures INT UNSIGNED NOT NULL,
    window_started_at DATETIME(6) NOT NULL,
    locked_until DATETIME(6) NULL,
    PRIMARY KEY (scope, subject),
    KEY login_throttle_window (window_started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
