"""csins-adapter: serious child safeguarding incident notifications, from case system to receipt."""

__version__ = "0.1.0"
