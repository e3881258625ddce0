"""communities.scoping owns every staff page's and API view's queryset: a view refines the
organisation's rows, it cannot replace them."""

import pytest
from django.test import RequestFactory
from django.views import View
from django.views.generic import ListView
from django.views.generic.detail import SingleObjectMixin

from communities.models import Member
from communities.scoping import OrganisationScopedAPIView, StaffScopedMixin
from tests.factories.communities import MemberFactory, OrganisationFactory, StaffRoleFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("base", [StaffScopedMixin, OrganisationScopedAPIView])
def test_a_view_that_overrides_get_queryset_is_refused_when_defined(base):
    with pytest.raises(TypeError, match="scope_queryset"):

        class Leaky(base):
            def get_queryset(self):
                return Member.objects.all()


def test_a_generic_mixin_listed_before_the_base_is_refused_when_defined():
    # SingleObjectMixin.get_queryset reads every organisation's rows; listed first, it
    # would win in the MRO
    with pytest.raises(TypeError, match="before Django's generic mixins"):

        class Leaky(SingleObjectMixin, StaffScopedMixin, View):
            model = Member


def test_rows_a_view_refines_stay_within_the_organisation(organisation, community):
    # given members in two organisations
    mine = MemberFactory(community=community)
    theirs = MemberFactory(community__organisation=OrganisationFactory())
    staff = StaffRoleFactory(organisation=organisation).user

    class CarelessList(StaffScopedMixin, ListView):
        model = Member
        template_name = "communities/staff_member_list.html"

        def scope_queryset(self, queryset):
            return Member.objects.all()  # a mistake: every organisation's members

    # when the page is asked for by the organisation's staff
    request = RequestFactory().get("/")
    request.user = staff
    view = CarelessList()
    view.setup(request, org=organisation.slug)
    view.organisation = organisation  # what dispatch resolves from the URL
    # then the base still keeps the result to the organisation in the URL
    assert list(view.get_queryset()) == [mine]
    assert theirs not in view.get_queryset()
