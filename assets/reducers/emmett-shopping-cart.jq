# Folds the Emmett shopping carts of tests/fixtures/emmett: items are keyed by SKU and a
# removed item arrives as null.
if $event.type == "ShoppingCartOpened" then $event.data
elif $event.type == "ProductItemAdded" then .items += $event.data.items
elif $event.type == "ProductItemRemoved" then
  .items |= with_entries(select(.key as $sku | $event.data.items | has($sku) | not))
elif $event.type == "ShoppingCartConfirmed" then .status = $event.data.status
else . end
