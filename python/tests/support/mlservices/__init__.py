"""An emulator of SQL Server Machine Learning Services' ``sp_execute_external_script``."""
