"""The ``athanor`` console command."""
