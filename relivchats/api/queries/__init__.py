"""Read SQL for reference data that no projection owns (the catalogue seeded by migrations)."""
