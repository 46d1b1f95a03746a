from django.shortcuts import redirect, render

from .access import cinemas_for, staff_page
from .nav import pages_for


@staff_page()
def home(request):
    """The first page a member sees: their role's pages, or straight to the only one."""
    pages = pages_for(request.user)
    if len(pages) == 1:
        return redirect(pages[0]["url"])
    return render(
        request,
        "staff/home.html",
        {"title": "Staff", "pages": pages, "cinemas": cinemas_for(request.user)},
    )
