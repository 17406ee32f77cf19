"""What the list endpoints need from the database to page fast at national scale."""
