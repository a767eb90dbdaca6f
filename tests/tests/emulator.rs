//! The emulator's workarounds (`infra/scripts/moto_server.py`) keep DynamoDB's semantics: a
//! cancelled transaction puts back exactly the items it touched — values and index membership —
//! and nothing else, so commits that land around it stay.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use journey_adapters::dynamodb::keys::{DUE_AT, DUE_INDEX, DUE_SHARD, PK, SK};
use journey_adapters::dynamodb::schema;
use journey_tests::{sdk_config, unique};

type Item = HashMap<String, AttributeValue>;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn item(pk: &str, sk: &str, n: u32, due: Option<&str>) -> Item {
    let mut item = HashMap::from([
        (PK.to_string(), s(pk)),
        (SK.to_string(), s(sk)),
        ("n".to_string(), AttributeValue::N(n.to_string())),
    ]);
    if let Some(due) = due {
        item.insert(DUE_SHARD.into(), s("DUE#00"));
        item.insert(DUE_AT.into(), s(due));
    }
    item
}

async fn table() -> (Client, String) {
    let client = Client::new(&sdk_config().await);
    let name = unique("emulator");
    schema::create_table(&client, &name)
        .await
        .expect("create table");
    (client, name)
}

async fn put(client: &Client, table: &str, item: Item) {
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .expect("put");
}

async fn get(client: &Client, table: &str, pk: &str, sk: &str) -> Option<Item> {
    client
        .get_item()
        .table_name(table)
        .key(PK, s(pk))
        .key(SK, s(sk))
        .consistent_read(true)
        .send()
        .await
        .expect("get")
        .item
}

/// The sort keys of the due index's shard 00, in order.
async fn due(client: &Client, table: &str) -> Vec<String> {
    let out = client
        .query()
        .table_name(table)
        .index_name(DUE_INDEX)
        .key_condition_expression("#s = :s")
        .expression_attribute_names("#s", DUE_SHARD)
        .expression_attribute_values(":s", s("DUE#00"))
        .send()
        .await
        .expect("query");
    out.items
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i.get(SK)?.as_s().ok().cloned())
        .collect()
}

/// A transaction that updates `b` (moving it out of the due index), creates `c` (into it),
/// overwrites `d`, and fails its last condition: it must change nothing.
async fn doomed_transaction(client: &Client, table: &str, round: u32) {
    let update_b = Update::builder()
        .table_name(table)
        .key(PK, s("P"))
        .key(SK, s("b"))
        .update_expression("SET n = :n REMOVE #s, #d")
        .expression_attribute_names("#s", DUE_SHARD)
        .expression_attribute_names("#d", DUE_AT)
        .expression_attribute_values(":n", AttributeValue::N(round.to_string()))
        .build()
        .expect("update");
    let put_c = Put::builder()
        .table_name(table)
        .set_item(Some(item("P", "c", round, Some("2026-01-03"))))
        .build()
        .expect("put");
    let put_d = Put::builder()
        .table_name(table)
        .set_item(Some(item("Q", "d", round, None)))
        .build()
        .expect("put");
    let failing = Put::builder()
        .table_name(table)
        .set_item(Some(item("P", "a", round, None)))
        .condition_expression("attribute_not_exists(PK)")
        .build()
        .expect("put");
    let result = client
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().update(update_b).build())
        .transact_items(TransactWriteItem::builder().put(put_c).build())
        .transact_items(TransactWriteItem::builder().put(put_d).build())
        .transact_items(TransactWriteItem::builder().put(failing).build())
        .send()
        .await;
    let error = result.expect_err("the last condition fails");
    let reasons: Vec<String> = match error.into_service_error() {
        TransactWriteItemsError::TransactionCanceledException(e) => {
            e.cancellation_reasons.unwrap_or_default()
        }
        other => panic!("not a cancellation: {other:?}"),
    }
    .into_iter()
    .map(|r| r.code.unwrap_or_default())
    .collect();
    assert_eq!(reasons, ["None", "None", "None", "ConditionalCheckFailed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_transaction_restores_exactly_the_items_it_touched_and_leaves_concurrent_commits_in_place()
 {
    let (client, table) = table().await;
    put(&client, &table, item("P", "a", 1, None)).await;
    put(&client, &table, item("P", "b", 2, Some("2026-01-02"))).await;
    put(&client, &table, item("Q", "d", 4, Some("2026-01-04"))).await;

    // other writers commit while the doomed transactions run
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (client, table) = (client.clone(), table.clone());
            tokio::spawn(async move {
                for n in 0..25 {
                    let sk = format!("w{w}-{n:02}");
                    put(
                        &client,
                        &table,
                        item("P", &sk, n, Some(&format!("2026-02-{n:02}"))),
                    )
                    .await;
                }
            })
        })
        .collect();
    for round in 0..20 {
        doomed_transaction(&client, &table, round).await;
    }
    for writer in writers {
        writer.await.expect("writer");
    }

    assert_eq!(
        get(&client, &table, "P", "a").await,
        Some(item("P", "a", 1, None))
    );
    assert_eq!(
        get(&client, &table, "P", "b").await,
        Some(item("P", "b", 2, Some("2026-01-02")))
    );
    assert_eq!(get(&client, &table, "P", "c").await, None);
    assert_eq!(
        get(&client, &table, "Q", "d").await,
        Some(item("Q", "d", 4, Some("2026-01-04")))
    );
    let mut expected = vec!["b".to_string(), "d".to_string()];
    for w in 0..4 {
        for n in 0..25 {
            assert!(
                get(&client, &table, "P", &format!("w{w}-{n:02}"))
                    .await
                    .is_some()
            );
            expected.push(format!("w{w}-{n:02}"));
        }
    }
    let mut listed = due(&client, &table).await;
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected, "the due index holds what the table holds");
}

#[tokio::test]
async fn a_committed_transaction_moves_items_in_and_out_of_an_index() {
    let (client, table) = table().await;
    put(&client, &table, item("P", "b", 2, Some("2026-01-02"))).await;
    let out_of_index = Update::builder()
        .table_name(&table)
        .key(PK, s("P"))
        .key(SK, s("b"))
        .update_expression("REMOVE #s, #d")
        .expression_attribute_names("#s", DUE_SHARD)
        .expression_attribute_names("#d", DUE_AT)
        .build()
        .expect("update");
    let into_index = Put::builder()
        .table_name(&table)
        .set_item(Some(item("P", "c", 3, Some("2026-01-01"))))
        .build()
        .expect("put");
    client
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().update(out_of_index).build())
        .transact_items(TransactWriteItem::builder().put(into_index).build())
        .send()
        .await
        .expect("commit");
    assert_eq!(due(&client, &table).await, ["c"]);
    client
        .delete_item()
        .table_name(&table)
        .key(PK, s("P"))
        .key(SK, s("c"))
        .send()
        .await
        .expect("delete");
    assert!(due(&client, &table).await.is_empty());
}
