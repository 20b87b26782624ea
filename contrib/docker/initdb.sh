#!/bin/sh
# Run once by the postgres image when its data directory is new: the database signpost
# belongs to signpost_app, a login role that is neither a superuser nor BYPASSRLS, so the
# landlords' row-level security holds for signpostd (README, "A consortium").
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
	-v pw="$SIGNPOST_APP_PASSWORD" <<'SQL'
CREATE ROLE signpost_app LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD :'pw';
ALTER DATABASE signpost OWNER TO signpost_app;
SQL
