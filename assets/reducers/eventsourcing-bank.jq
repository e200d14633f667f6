# Folds the bank accounts of tests/fixtures/eventsourcing (Python eventsourcing library)
# into the state its snapshots hold, so `rewind verify` can compare them.
#   .       the state before the event (null before the first)
#   $event  {type, version, timestamp, aggregate_id, data, metadata}
(if $event.type == "Opened" then
  {owner: $event.data.owner, balance: 0, reference: $event.data.account_id,
   limits: {daily: 1000}, _created_on: $event.timestamp}
elif $event.type == "Deposited" then .balance += $event.data.amount
elif $event.type == "Withdrawn" then .balance -= $event.data.amount
elif $event.type == "DailyLimitChanged" then .limits.daily = $event.data.daily
else error("unknown event type \($event.type)")
end) | ._modified_on = $event.timestamp
