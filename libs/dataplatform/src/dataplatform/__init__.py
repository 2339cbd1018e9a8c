"""What every code location shares: settings, the asset key rule and the dbt wiring."""
