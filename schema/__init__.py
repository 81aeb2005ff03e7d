"""The GraphQL API. `schema` is what `/graphql` serves and what `schema.graphql` is printed from."""

import graphene
from django.utils import translation
from graphene import relay

from schema.accounts import AccountMutations, AccountQueries
from schema.complaints import ComplaintMutations, ComplaintQueries
from schema.regions import RegionQueries


class Query(AccountQueries, RegionQueries, ComplaintQueries, graphene.ObjectType):
    node = relay.Node.Field()


class Mutation(AccountMutations, ComplaintMutations, graphene.ObjectType):
    pass


# Descriptions that come from model help texts are translatable; the API's documentation is English, whatever
# language the process happens to have active when the schema is built.
with translation.override("en"):
    schema = graphene.Schema(query=Query, mutation=Mutation)
