"""The operator's own databases: datasets declared beside the policy, and their discovery."""
