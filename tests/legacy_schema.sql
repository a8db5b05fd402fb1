-- Legacy GASS API schema as left by backend/migrations/*.sql run through migrate.php
-- (legacy-contract/schema.md): one CREATE TABLE per table in its final shape, in migration
-- order. Columns added later by ALTER (009, 007_update, 008, 065) sit where the ALTER put them,
-- and keys added by ALTER come after the original keys. Test fixture only: the gateway never
-- runs this file against a real database.

-- created by migrate.php before any migration
CREATE TABLE `migrations` (
  `id` INT AUTO_INCREMENT PRIMARY KEY,
  `migration` VARCHAR(255) NOT NULL,
  `executed_at` TIMESTAMP DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 001_create_users_table + 009_add_password_reset_columns
CREATE TABLE `users` (
  `id` VARCHAR(255) NOT NULL,
  `email` VARCHAR(255) NOT NULL,
  `password_hash` VARCHAR(255) NOT NULL,
  `name` VARCHAR(255) NOT NULL,
  `avatar_url` VARCHAR(255) DEFAULT NULL,
  `is_active` TINYINT(1) NOT NULL DEFAULT 1,
  `email_verified` TINYINT(1) NOT NULL DEFAULT 0,
  `password_reset_token` VARCHAR(255) DEFAULT NULL,
  `password_reset_token_expires_at` DATETIME DEFAULT NULL,
  `token_version` INT NOT NULL DEFAULT 0,
  `last_login_at` DATETIME DEFAULT NULL,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `updated_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY `users_email_unique` (`email`),
  KEY `users_is_active_idx` (`is_active`),
  KEY `users_email_idx` (`email`),
  KEY `users_password_reset_token_idx` (`password_reset_token`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 002_create_projects_table
CREATE TABLE `projects` (
  `id` VARCHAR(255) NOT NULL,
  `name` VARCHAR(255) NOT NULL,
  `description` TEXT DEFAULT NULL,
  `owner_id` VARCHAR(255) NOT NULL,
  `api_key` VARCHAR(255) DEFAULT NULL,
  `is_public` TINYINT(1) NOT NULL DEFAULT 0,
  `settings` LONGTEXT NOT NULL,
  `last_sync_at` DATETIME DEFAULT NULL,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `updated_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY `projects_owner_name_unique` (`owner_id`, `name`),
  UNIQUE KEY `projects_api_key_unique` (`api_key`),
  KEY `projects_api_key_idx` (`api_key`),
  CONSTRAINT `projects_owner_fk` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 003_create_folders_table
CREATE TABLE `folders` (
  `id` VARCHAR(255) NOT NULL,
  `name` VARCHAR(255) NOT NULL,
  `description` TEXT DEFAULT NULL,
  `project_id` VARCHAR(255) NOT NULL,
  `parent_id` VARCHAR(255) DEFAULT NULL,
  `headers` LONGTEXT NOT NULL,
  `variables` LONGTEXT NOT NULL,
  `is_default` TINYINT(1) NOT NULL DEFAULT 0,
  `created_by` VARCHAR(255) NOT NULL,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `updated_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY `folders_project_name_unique` (`project_id`, `name`),
  KEY `folders_created_by_idx` (`created_by`),
  KEY `folders_parent_id_idx` (`parent_id`),
  KEY `folders_project_id_idx` (`project_id`),
  CONSTRAINT `folders_project_fk` FOREIGN KEY (`project_id`) REFERENCES `projects` (`id`)
    ON DELETE CASCADE,
  CONSTRAINT `folders_created_by_fk` FOREIGN KEY (`created_by`) REFERENCES `users` (`id`)
    ON DELETE CASCADE,
  CONSTRAINT `folders_parent_fk` FOREIGN KEY (`parent_id`) REFERENCES `folders` (`id`)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 004_create_endpoints_table + 065_add_endpoint_semantic_fields
CREATE TABLE `endpoints` (
  `id` VARCHAR(255) NOT NULL,
  `name` VARCHAR(255) NOT NULL,
  `method` VARCHAR(50) NOT NULL,
  `url` VARCHAR(1024) NOT NULL,
  `description` TEXT DEFAULT NULL COMMENT 'Endpoint description',
  `purpose` VARCHAR(250) DEFAULT NULL COMMENT 'Business purpose of the endpoint',
  `headers` LONGTEXT NOT NULL,
  `body` LONGTEXT DEFAULT NULL,
  `folder_id` VARCHAR(255) NOT NULL,
  `created_by` VARCHAR(255) NOT NULL,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `updated_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `request_params` LONGTEXT DEFAULT NULL
    COMMENT 'JSON: Parameter documentation {param_name: "description"}',
  `response_schema` LONGTEXT DEFAULT NULL
    COMMENT 'JSON: Response field documentation {field_name: "description"}',
  `header_docs` LONGTEXT DEFAULT NULL
    COMMENT 'JSON: Header documentation {header_name: "description"}',
  PRIMARY KEY (`id`),
  UNIQUE KEY `endpoints_folder_name_unique` (`folder_id`, `name`),
  KEY `endpoints_folder_idx` (`folder_id`),
  KEY `endpoints_created_by_idx` (`created_by`),
  CONSTRAINT `endpoints_folder_fk` FOREIGN KEY (`folder_id`) REFERENCES `folders` (`id`)
    ON DELETE CASCADE,
  CONSTRAINT `endpoints_created_by_fk` FOREIGN KEY (`created_by`) REFERENCES `users` (`id`)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 005_create_environments_table
CREATE TABLE `environments` (
  `id` VARCHAR(255) NOT NULL,
  `project_id` VARCHAR(255) NOT NULL,
  `name` VARCHAR(255) NOT NULL,
  `description` TEXT DEFAULT NULL,
  `variables` LONGTEXT NOT NULL,
  `is_default` TINYINT(1) NOT NULL DEFAULT 0,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `updated_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY `environments_project_name_unique` (`project_id`, `name`),
  KEY `environments_project_idx` (`project_id`),
  CONSTRAINT `environments_project_fk` FOREIGN KEY (`project_id`) REFERENCES `projects` (`id`)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 006_create_flows_table + 007_update_flows_dual_format
CREATE TABLE `flows` (
  `id` VARCHAR(255) NOT NULL,
  `name` VARCHAR(255) NOT NULL,
  `description` TEXT DEFAULT NULL,
  `project_id` VARCHAR(255) NOT NULL,
  `folder_id` VARCHAR(255) DEFAULT NULL,
  `flow_data` LONGTEXT NOT NULL,
  `created_by` VARCHAR(255) NOT NULL,
  `is_active` TINYINT(1) NOT NULL DEFAULT 1,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `updated_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `flow_inputs` LONGTEXT DEFAULT NULL
    COMMENT 'JSON array of flow input definitions for dynamic variables',
  `ui_data` LONGTEXT DEFAULT NULL
    COMMENT 'React Flow format data for UI (nodes, edges, positions)',
  `ai_version` VARCHAR(100) DEFAULT NULL
    COMMENT 'AI system version that generated this flow',
  `generation_strategy` VARCHAR(100) DEFAULT NULL
    COMMENT 'AI strategy used for flow generation',
  `complexity_score` DECIMAL(3,2) DEFAULT NULL
    COMMENT 'Flow complexity score (0.00-1.00) for AI learning',
  PRIMARY KEY (`id`),
  UNIQUE KEY `flows_project_name_unique` (`project_id`, `name`),
  KEY `flows_folder_idx` (`folder_id`),
  KEY `flows_created_by_idx` (`created_by`),
  KEY `flows_is_active_idx` (`is_active`),
  KEY `flows_project_idx` (`project_id`),
  KEY `flows_ai_version_idx` (`ai_version`),
  KEY `flows_complexity_idx` (`complexity_score`),
  CONSTRAINT `flows_folder_fk` FOREIGN KEY (`folder_id`) REFERENCES `folders` (`id`)
    ON DELETE CASCADE,
  CONSTRAINT `flows_created_by_fk` FOREIGN KEY (`created_by`) REFERENCES `users` (`id`)
    ON DELETE CASCADE,
  CONSTRAINT `flows_project_fk` FOREIGN KEY (`project_id`) REFERENCES `projects` (`id`)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 007_create_mcp_client_tokens_table + 008_add_updated_at_to_mcp_tokens
CREATE TABLE `mcp_client_tokens` (
  `id` VARCHAR(255) NOT NULL,
  `project_id` VARCHAR(255) NOT NULL,
  `token_hash` VARCHAR(255) NOT NULL,
  `last_validated_at` DATETIME DEFAULT NULL,
  `created_by` VARCHAR(255) NOT NULL,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `updated_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `is_active` TINYINT(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (`id`),
  UNIQUE KEY `mcp_token_hash_unique` (`token_hash`),
  KEY `mcp_created_by_idx` (`created_by`),
  KEY `mcp_is_active_idx` (`is_active`),
  KEY `mcp_project_idx` (`project_id`),
  CONSTRAINT `mcp_created_by_fk` FOREIGN KEY (`created_by`) REFERENCES `users` (`id`),
  CONSTRAINT `mcp_project_fk` FOREIGN KEY (`project_id`) REFERENCES `projects` (`id`)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 008_create_test_flows_table
CREATE TABLE `test_flows` (
  `id` VARCHAR(255) NOT NULL,
  `name` VARCHAR(255) NOT NULL,
  `description` TEXT DEFAULT NULL,
  `project_id` VARCHAR(255) NOT NULL,
  `config` LONGTEXT NOT NULL,
  `steps` LONGTEXT NOT NULL,
  `created_by` VARCHAR(255) NOT NULL,
  `is_active` TINYINT(1) NOT NULL DEFAULT 1,
  `last_run_at` DATETIME DEFAULT NULL,
  `last_run_status` TEXT DEFAULT NULL,
  `total_runs` INT NOT NULL DEFAULT 0,
  `success_rate` FLOAT NOT NULL DEFAULT 0,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `updated_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY `test_flows_project_name_unique` (`project_id`, `name`),
  KEY `test_flows_created_by_idx` (`created_by`),
  KEY `test_flows_is_active_idx` (`is_active`),
  KEY `test_flows_project_idx` (`project_id`),
  CONSTRAINT `test_flows_created_by_fk` FOREIGN KEY (`created_by`) REFERENCES `users` (`id`)
    ON DELETE CASCADE,
  CONSTRAINT `test_flows_project_fk` FOREIGN KEY (`project_id`) REFERENCES `projects` (`id`)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 009_create_project_members_table
CREATE TABLE `project_members` (
  `id` VARCHAR(255) NOT NULL,
  `project_id` VARCHAR(255) NOT NULL,
  `user_id` VARCHAR(255) NOT NULL,
  `invited_by` VARCHAR(255) NOT NULL,
  `joined_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY `project_members_project_user_unique` (`project_id`, `user_id`),
  KEY `project_members_invited_by_idx` (`invited_by`),
  KEY `project_members_project_idx` (`project_id`),
  KEY `project_members_user_idx` (`user_id`),
  CONSTRAINT `project_members_invited_by_fk` FOREIGN KEY (`invited_by`) REFERENCES `users` (`id`),
  CONSTRAINT `project_members_project_fk` FOREIGN KEY (`project_id`) REFERENCES `projects` (`id`)
    ON DELETE CASCADE,
  CONSTRAINT `project_members_user_fk` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 010_create_audit_logs_table
CREATE TABLE `audit_logs` (
  `id` VARCHAR(255) NOT NULL,
  `user_id` VARCHAR(255) DEFAULT NULL,
  `project_id` VARCHAR(255) DEFAULT NULL,
  `action` VARCHAR(255) NOT NULL,
  `resource_type` VARCHAR(255) NOT NULL,
  `resource_id` VARCHAR(255) DEFAULT NULL,
  `old_values` LONGTEXT DEFAULT NULL,
  `new_values` LONGTEXT DEFAULT NULL,
  `ip_address` VARCHAR(255) DEFAULT NULL,
  `user_agent` VARCHAR(255) DEFAULT NULL,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `category` VARCHAR(255) DEFAULT 'system',
  `duration` INT DEFAULT NULL,
  `metadata` LONGTEXT DEFAULT NULL,
  `severity` VARCHAR(255) DEFAULT 'low',
  PRIMARY KEY (`id`),
  KEY `audit_logs_action_idx` (`action`),
  KEY `audit_logs_category_idx` (`category`),
  KEY `audit_logs_created_at_idx` (`created_at`),
  KEY `audit_logs_project_idx` (`project_id`),
  KEY `audit_logs_resource_type_idx` (`resource_type`),
  KEY `audit_logs_severity_idx` (`severity`),
  KEY `audit_logs_user_idx` (`user_id`),
  CONSTRAINT `audit_logs_user_fk` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`),
  CONSTRAINT `audit_logs_project_fk` FOREIGN KEY (`project_id`) REFERENCES `projects` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 011_create_email_verification_tokens_table
CREATE TABLE `email_verification_tokens` (
  `id` VARCHAR(255) NOT NULL,
  `token_hash` VARCHAR(255) NOT NULL,
  `user_id` VARCHAR(255) NOT NULL,
  `expires_at` DATETIME NOT NULL,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `is_active` TINYINT(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (`id`),
  UNIQUE KEY `email_verification_token_hash_unique` (`token_hash`),
  KEY `email_verification_expires_idx` (`expires_at`),
  KEY `email_verification_user_idx` (`user_id`),
  CONSTRAINT `email_verification_user_fk` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 012_create_password_reset_tokens_table
CREATE TABLE `password_reset_tokens` (
  `id` VARCHAR(255) NOT NULL,
  `token_hash` VARCHAR(255) NOT NULL,
  `user_id` VARCHAR(255) NOT NULL,
  `expires_at` DATETIME NOT NULL,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `is_active` TINYINT(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (`id`),
  UNIQUE KEY `password_reset_token_hash_unique` (`token_hash`),
  KEY `password_reset_expires_idx` (`expires_at`),
  KEY `password_reset_user_idx` (`user_id`),
  CONSTRAINT `password_reset_user_fk` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 013_create_refresh_tokens_table
CREATE TABLE `refresh_tokens` (
  `id` VARCHAR(255) NOT NULL,
  `token_hash` VARCHAR(255) NOT NULL,
  `user_id` VARCHAR(255) NOT NULL,
  `expires_at` DATETIME NOT NULL,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `is_active` TINYINT(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (`id`),
  UNIQUE KEY `refresh_token_hash_unique` (`token_hash`),
  KEY `refresh_expires_idx` (`expires_at`),
  KEY `refresh_user_idx` (`user_id`),
  CONSTRAINT `refresh_user_fk` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- migrate.php records every applied file (000 and 999 are not recorded)
INSERT INTO `migrations` (`migration`) VALUES
  ('001_create_users_table.sql'),
  ('002_create_projects_table.sql'),
  ('003_create_folders_table.sql'),
  ('004_create_endpoints_table.sql'),
  ('005_create_environments_table.sql'),
  ('006_create_flows_table.sql'),
  ('007_create_mcp_client_tokens_table.sql'),
  ('007_update_flows_dual_format.sql'),
  ('008_add_updated_at_to_mcp_tokens.sql'),
  ('008_create_test_flows_table.sql'),
  ('009_add_password_reset_columns.sql'),
  ('009_create_project_members_table.sql'),
  ('010_create_audit_logs_table.sql'),
  ('011_create_email_verification_tokens_table.sql'),
  ('012_create_password_reset_tokens_table.sql'),
  ('013_create_refresh_tokens_table.sql'),
  ('065_add_endpoint_semantic_fields.sql');
