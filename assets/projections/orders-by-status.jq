# How many orders are in each status: rewind project STORE --projection orders-by-status.jq
(. // {status: {}, count: {}})
| if $event.aggregate_type == "order" and $event.data.status != null then
    .status[$event.aggregate_id] = $event.data.status
    | .count = (.status | to_entries | group_by(.value) | map({key: .[0].value, value: length}) | from_entries)
  else . end
