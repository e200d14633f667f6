# Every account's balance and their total: rewind project STORE --projection balances.jq
# `.` is null before the first event; jaq, unlike jq, does not update paths of null.
(. // {balances: {}, total: 0})
| if $event.aggregate_type == "account" and $event.data.balance != null then
    .balances[$event.aggregate_id] = $event.data.balance
    | .total = ([.balances[]] | add * 100 | round / 100)
  else . end
