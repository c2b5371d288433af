"""Autogenerate: compare ``target_metadata`` with the database and write the operations that
make them agree into a revision file."""
