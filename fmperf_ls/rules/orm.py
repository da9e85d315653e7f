"""Rules of this family arrive with their issue."""
