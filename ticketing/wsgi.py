import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ticketing.settings")
application = get_wsgi_application()

# The waiting room's status poll answered before Django's full request cycle (same answer).
from ticketing.storefront.waiting_fast import wrap  # noqa: E402

application = wrap(application)
