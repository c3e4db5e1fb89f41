"""Sample data shipped with the package: the synthetic chat `relivchats demo` uploads."""
