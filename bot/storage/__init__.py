"""Everything the bot keeps, on SQLAlchemy 2 (async): the only package that imports SQLAlchemy."""
