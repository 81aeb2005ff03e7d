"""Open311 GeoReport v2 at /open311/v2/ (docs/open311.md): a region's complaint categories as services, complaints
as service requests. Thin views over the complaint services and selectors the app uses."""
