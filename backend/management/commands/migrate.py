"""Django's ``migrate``, which installs the access triggers at its end (``BackendConfig.ready``).

It runs every system check but the access triggers' own (``mestring.E002``): a database whose triggers
do not match the declaration is what ``migrate`` puts right, so it must not refuse to run for it.
"""

from typing import Any

from django.core.checks import registry
from django.core.management.commands.migrate import Command as DjangoMigrate


class Command(DjangoMigrate):
    def get_check_kwargs(self, options: dict[str, Any]) -> Any:
        kwargs = dict(super().get_check_kwargs(options))
        kwargs["tags"] = sorted(registry.registry.tags_available() - {"access"})
        return kwargs
