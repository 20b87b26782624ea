-- signpost: every inbound keyword reply looks for the sender's open help request of that
-- category before making a new one; without these that was a scan of every help request.
CREATE INDEX help_requests_open_tenant ON help_requests (tenant_id, category)
  WHERE state NOT IN ('resolved', 'closed_no_contact');
CREATE INDEX help_requests_open_phone ON help_requests (phone, category)
  WHERE tenant_id IS NULL AND state NOT IN ('resolved', 'closed_no_contact');
