-- One-time server setup for the customer-segmentation dbt project (docs/sqlserver.md, "Setting
-- up the server"), for a DBA to run as a sysadmin after restoring the database:
--
--     make sqlserver-setup > setup-filled.sql     (this file, with the variables filled in)
--     sqlcmd -S <server> -b -i setup-filled.sql   (or open it in SSMS and execute)
--
-- or sqlcmd -b -i sqlserver/setup.sql -v DatabaseName=... with every variable. The sqlcmd
-- variables, and the value `make sqlserver-setup` gives each:
--     DatabaseName   the restored TPCx-BB database       MSSQL_DATABASE, else tpcxbb_1gb
--     BuildLogin     the login dbt connects with         MSSQL_USER, else dbt_user
--     Schema         dbt's target schema                 MSSQL_SCHEMA, else dbo
--     PiiSchema      the relations holding PII           <Schema>_pii, as dbt names it
--     SourceSchema   the source tables                   dbo, as var source_schema
--     CampaignRole   the only role that reads the PII    var campaign_role (campaign_mailer)
--     BuildRole      the role of the dbt user            segmentation_builder
--
-- Idempotent: objects are created only when missing and grants repeat harmlessly. The login
-- itself is not created here (it carries a password or an Entra identity): create it first.

-- 1. Machine Learning Services must be installed: the cluster table is filled by a stored
--    procedure that runs Python through sp_execute_external_script. Otherwise stop here
--    (NOEXEC compiles the rest of the script without running it).
IF ISNULL(CAST(SERVERPROPERTY('IsAdvancedAnalyticsInstalled') AS int), 0) <> 1
BEGIN
    RAISERROR(
        'Machine Learning Services is not installed: install it with Python, then run again.',
        16,
        1
    );
    SET NOEXEC ON;
END;
GO

-- 2. Allow external scripts. This takes effect once the SQL Server Launchpad service is
--    restarted (on SQL Server 2019 restart the Database Engine service too).
EXEC sp_configure 'external scripts enabled', 1;
RECONFIGURE WITH OVERRIDE;
PRINT 'external scripts enabled: restart the SQL Server Launchpad service before dbt runs.';
GO

USE [$(DatabaseName)];
GO

-- 3. The two schemas dbt builds into, owned by dbo like the source tables: a campaign-role
--    query through a view in $(PiiSchema) then reaches $(SourceSchema).customer by ownership
--    chaining, with no permission on the source table itself.
IF SCHEMA_ID(N'$(Schema)') IS NULL
    EXEC (N'CREATE SCHEMA [$(Schema)] AUTHORIZATION [dbo];');
IF SCHEMA_ID(N'$(PiiSchema)') IS NULL
    EXEC (N'CREATE SCHEMA [$(PiiSchema)] AUTHORIZATION [dbo];');
IF EXISTS (
    SELECT 1
    FROM sys.schemas
    WHERE
        name IN (N'$(Schema)', N'$(PiiSchema)', N'$(SourceSchema)')
        AND principal_id <> DATABASE_PRINCIPAL_ID(N'dbo')
)
    RAISERROR(
        'Warning: $(Schema), $(PiiSchema) and $(SourceSchema) must all be owned by dbo.', 10, 1
    );
GO

-- 4. The roles: the campaign role reads the PII, the build role runs dbt.
IF DATABASE_PRINCIPAL_ID(N'$(CampaignRole)') IS NULL
    CREATE ROLE [$(CampaignRole)] AUTHORIZATION [dbo];
IF DATABASE_PRINCIPAL_ID(N'$(BuildRole)') IS NULL
    CREATE ROLE [$(BuildRole)] AUTHORIZATION [dbo];
GO

-- 5. The dbt user, a member of the build role.
IF DATABASE_PRINCIPAL_ID(N'$(BuildLogin)') IS NULL
    CREATE USER [$(BuildLogin)] FOR LOGIN [$(BuildLogin)] WITH DEFAULT_SCHEMA = [$(Schema)];
IF IS_ROLEMEMBER(N'$(BuildRole)', N'$(BuildLogin)') = 0
    ALTER ROLE [$(BuildRole)] ADD MEMBER [$(BuildLogin)];
GO

-- 6. What a dbt build does: create tables, views and the procedure (CREATE in the database
--    plus ALTER on the schema), fill, replace, rename and drop them, run the procedure and
--    its Python, read the sources. With the default Schema dbo, which also holds the source
--    tables, ALTER there lets dbt drop them too: a target schema of its own avoids that.
GRANT CREATE TABLE, CREATE VIEW, CREATE PROCEDURE TO [$(BuildRole)];
GRANT EXECUTE ANY EXTERNAL SCRIPT TO [$(BuildRole)];
GRANT ALTER, SELECT, INSERT, UPDATE, DELETE, EXECUTE ON SCHEMA::[$(Schema)] TO [$(BuildRole)];
GRANT ALTER, SELECT, INSERT, UPDATE, DELETE, EXECUTE ON SCHEMA::[$(PiiSchema)]
TO [$(BuildRole)];
GRANT SELECT ON SCHEMA::[$(SourceSchema)] TO [$(BuildRole)];
-- dbt-sqlserver looks up the views that depend on a view before it drops one.
GRANT VIEW DEFINITION TO [$(BuildRole)];
GRANT SELECT ON sys.sql_expression_dependencies TO [$(BuildRole)];
-- dbt grants SELECT on each PII model to the campaign role (`grants` config) and revokes the
-- other grants it sees. Objects in a dbo-owned schema belong to dbo, so the dbt user needs
-- the grant option. It goes to the user, not the build role: a grant option held through a
-- role works only with GRANT ... AS <role>, which dbt does not send.
GRANT SELECT ON SCHEMA::[$(PiiSchema)] TO [$(BuildLogin)] WITH GRANT OPTION;
GO

-- 7. Reading the PII: the campaign role, and no other role.
GRANT SELECT ON SCHEMA::[$(PiiSchema)] TO [$(CampaignRole)];
GO

-- 8. For review: every principal that may read $(PiiSchema), besides dbo and sysadmins.
--    Expect $(CampaignRole), $(BuildRole) and $(BuildLogin); db_owner and db_datareader
--    members read every schema, so keep analysts out of those.
SELECT
    principals.name AS principal_name,
    permissions.permission_name,
    permissions.state_desc
FROM sys.database_permissions AS permissions
INNER JOIN sys.database_principals AS principals
    ON permissions.grantee_principal_id = principals.principal_id
WHERE
    permissions.class_desc = 'SCHEMA'
    AND permissions.major_id = SCHEMA_ID(N'$(PiiSchema)')
    AND permissions.permission_name = 'SELECT'
UNION ALL
SELECT
    members.name AS principal_name,
    roles.name AS permission_name,
    'MEMBER' AS state_desc
FROM sys.database_role_members AS role_members
INNER JOIN sys.database_principals AS roles
    ON role_members.role_principal_id = roles.principal_id
INNER JOIN sys.database_principals AS members
    ON role_members.member_principal_id = members.principal_id
WHERE roles.name IN (N'db_owner', N'db_datareader') AND members.name <> N'dbo';
GO

SET NOEXEC OFF;
GO
