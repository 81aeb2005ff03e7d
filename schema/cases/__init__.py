"""The Case in the API: one type for complaints and permits (`types`), how a selection shapes the queries that load
it (`shape`), staff work on a case (`work`), bulk actions (`bulk`), the SKM survey (`survey`) and dashboards
(`dashboard`)."""
