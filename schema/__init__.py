"""The GraphQL API. `schema` is what `/graphql` serves and what `schema.graphql` is printed from."""

import graphene
from graphene import relay

from schema.accounts import AccountMutations, AccountQueries
from schema.regions import RegionQueries


class Query(AccountQueries, RegionQueries, graphene.ObjectType):
    node = relay.Node.Field()


class Mutation(AccountMutations, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
