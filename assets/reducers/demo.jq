# The demo store's events carry partial states, so this reducer is RFC 7396 merge patch
# written in jq: what rewind does by default, as a starting point for your own fold.
def merge_patch($patch):
  if ($patch | type) == "object" then
    reduce ($patch | to_entries[]) as $field (if type == "object" then . else {} end;
      if $field.value == null then del(.[$field.key])
      else .[$field.key] |= merge_patch($field.value) end)
  else $patch end;

merge_patch($event.data)
