"""The GraphQL API. `schema` is what `/graphql` serves and what `schema.graphql` is printed from."""

import graphene
from django.utils import translation

# graphene-django turns model help texts and choice labels into descriptions as the types are defined, in the
# language active at that moment: the API's documentation is English whatever that language is.
with translation.override("en"):
    from schema.accounts import AccountMutations, AccountQueries
    from schema.cases.bulk import BulkMutations
    from schema.cases.dashboard import DashboardQueries
    from schema.cases.survey import SurveyMutations, SurveyQueries
    from schema.cases.work import CaseMutations, DisposisiMutations
    from schema.complaints import ComplaintMutations, ComplaintQueries
    from schema.fields import node_field
    from schema.integrations import IntegrationMutations, IntegrationQueries
    from schema.notifications import NotificationMutations
    from schema.permits import PermitMutations, PermitQueries
    from schema.queue import QueueQueries
    from schema.regions import RegionQueries
    from schema.subscriptions import Subscription as LiveSubscriptions
    from schema.webhooks import WebhookDocumentSubscription

    class Query(
        AccountQueries,
        RegionQueries,
        ComplaintQueries,
        QueueQueries,
        SurveyQueries,
        DashboardQueries,
        PermitQueries,
        IntegrationQueries,
        graphene.ObjectType,
    ):
        node = node_field()

    class Mutation(
        AccountMutations,
        ComplaintMutations,
        CaseMutations,
        DisposisiMutations,
        SurveyMutations,
        BulkMutations,
        NotificationMutations,
        PermitMutations,
        IntegrationMutations,
        graphene.ObjectType,
    ):
        pass

    class Subscription(LiveSubscriptions, WebhookDocumentSubscription, graphene.ObjectType):
        pass

    schema = graphene.Schema(query=Query, mutation=Mutation, subscription=Subscription)
