-- wrk script of tests/bench/run.sh: PATCH /api/v2/contacts/{id} with a bearer
-- token (run.sh replaces @TOKEN@), the id varying per request like the
-- worker's updates, the same kind of JSON body.
local n = 0
local headers = {
  ["Authorization"] = "Bearer @TOKEN@",
  ["Content-Type"] = "application/json",
}
request = function()
  n = n + 1
  return wrk.format("PATCH", "/api/v2/contacts/c-" .. n,
    headers, '{"firstName":"First' .. n .. '","lastName":"Last, ' .. n ..
    '","email":"user' .. n .. '@example.com"}')
end
