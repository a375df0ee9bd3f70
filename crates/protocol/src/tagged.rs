//! Internally tagged enums whose tag is the object's first key: `{"kind": "folders", ...}`.
//!
//! serde's own `#[serde(tag = "...")]` reads each such object into an intermediate buffer before
//! it looks for the tag, so every type inside is compiled twice: once read from JSON, once from
//! the buffer. In the browser app's wasm that was 92 KB of code (21 KB brotli) of the 316 KB its
//! first load costs. Serde writes the tag first, so the enums the relay sends derive the
//! externally tagged form instead (`#[serde(remote = "Self")]`, which makes the derived code
//! plain functions) and [`tag_first!`] implements the traits through [`Reader`] and [`Writer`]:
//! the first key must be the tag, the variant's fields follow in the same object. The wire
//! format is unchanged; an object whose tag is not its first key is refused.
//!
//! Only for what the app reads: what the relay reads (requests, drafts) may come from other
//! writers, and keeps serde's form, which takes the keys in any order.

use std::fmt;

use serde::de::{
    self, value::MapAccessDeserializer, DeserializeSeed, Deserializer, EnumAccess, IgnoredAny,
    MapAccess, VariantAccess, Visitor,
};
use serde::ser::{self, Impossible, Serialize, SerializeMap, Serializer};

/// Implements `Serialize` and `Deserialize` for an enum deriving both with
/// `#[serde(remote = "Self")]`, written as an object whose first key is `$tag`.
macro_rules! tag_first {
    ($enum:ident, $tag:literal) => {
        impl serde::Serialize for $enum {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $enum::serialize(self, $crate::tagged::Writer::new(serializer, $tag))
            }
        }

        impl<'de> serde::Deserialize<'de> for $enum {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $enum::deserialize($crate::tagged::Reader::new(deserializer, $tag))
            }
        }
    };
}
pub(crate) use tag_first;

/// Reads the enum's variant from the first key, `tag`, and the variant from the rest.
pub struct Reader<D> {
    inner: D,
    tag: &'static str,
}

impl<D> Reader<D> {
    pub fn new(inner: D, tag: &'static str) -> Self {
        Self { inner, tag }
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Reader<D> {
    type Error = D::Error;

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(Object {
            tag: self.tag,
            visitor,
        })
    }

    /// The derived code asks for nothing but an enum.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

/// The object: its first key must be the tag.
struct Object<V> {
    tag: &'static str,
    visitor: V,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Object<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object whose first key is \"{}\"", self.tag)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<V::Value, A::Error> {
        match map.next_key_seed(Key(self.tag))? {
            Some(()) => self.visitor.visit_enum(Variant(map)),
            None => Err(de::Error::missing_field(self.tag)),
        }
    }
}

/// A key that must be this one.
struct Key(&'static str);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "the key \"{}\" first", self.0)
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<(), E> {
        if key == self.0 {
            Ok(())
        } else {
            Err(E::invalid_value(de::Unexpected::Str(key), &self))
        }
    }
}

/// The rest of the object, after the tag: the tag's value names the variant, the remaining
/// keys are its fields.
struct Variant<A>(A);

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for Variant<A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(
        mut self,
        seed: S,
    ) -> Result<(S::Value, Self), A::Error> {
        let variant = self.0.next_value_seed(seed)?;
        Ok((variant, self))
    }
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for Variant<A> {
    type Error = A::Error;

    /// Other keys beside the tag are ignored, as serde's internally tagged form does.
    fn unit_variant(mut self) -> Result<(), A::Error> {
        while self.0.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        seed.deserialize(MapAccessDeserializer::new(self.0))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, A::Error> {
        Err(de::Error::invalid_type(de::Unexpected::Map, &visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.0)
    }
}

/// Writes the enum's variant as the first key, `tag`, of an object holding the variant's fields.
pub struct Writer<S> {
    inner: S,
    tag: &'static str,
}

impl<S> Writer<S> {
    pub fn new(inner: S, tag: &'static str) -> Self {
        Self { inner, tag }
    }
}

/// An object begun with the tag, taking the variant's fields.
pub struct Fields<S: Serializer>(S::SerializeMap);

impl<S: Serializer> Fields<S> {
    fn open(
        serializer: S,
        tag: &'static str,
        variant: &'static str,
        len: usize,
    ) -> Result<Self, S::Error> {
        let mut map = serializer.serialize_map(Some(len + 1))?;
        map.serialize_entry(tag, variant)?;
        Ok(Fields(map))
    }
}

impl<S: Serializer> ser::SerializeStructVariant for Fields<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        self.0.serialize_entry(key, value)
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: Serializer> ser::SerializeStruct for Fields<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        self.0.serialize_entry(key, value)
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

/// The `Serializer` methods a tagged object cannot be written from, each an error: the derived
/// code of these enums calls none of them, and a newtype variant holds a struct.
macro_rules! not_an_object {
    ($($method:ident($($arg:ty),*);)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<S::Ok, S::Error> {
            Err(ser::Error::custom("a tagged variant must be an object"))
        })*
    };
}

/// The methods both serializers here refuse.
macro_rules! refuse_all_but_objects {
    () => {
        not_an_object! {
            serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
            serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
            serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
            serialize_str(&str); serialize_bytes(&[u8]); serialize_none(); serialize_unit();
            serialize_unit_struct(&'static str);
        }

        fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<S::Ok, S::Error> {
            Err(ser::Error::custom("a tagged variant must be an object"))
        }

        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: &T,
        ) -> Result<S::Ok, S::Error> {
            Err(ser::Error::custom("a tagged variant must be an object"))
        }

        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
            Err(ser::Error::custom("a tagged variant must be an object"))
        }

        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, S::Error> {
            Err(ser::Error::custom("a tagged variant must be an object"))
        }

        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, S::Error> {
            Err(ser::Error::custom("a tagged variant must be an object"))
        }

        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, S::Error> {
            Err(ser::Error::custom("a tagged variant must be an object"))
        }

        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
            Err(ser::Error::custom("a tagged variant must be an object"))
        }
    };
}

impl<S: Serializer> Serializer for Writer<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = Impossible<S::Ok, S::Error>;
    type SerializeStruct = Impossible<S::Ok, S::Error>;
    type SerializeStructVariant = Fields<S>;

    refuse_all_but_objects!();

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        Fields::open(self.inner, self.tag, variant, 0)?.0.end()
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(Inline {
            inner: self.inner,
            tag: self.tag,
            variant,
        })
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Err(ser::Error::custom("a tagged variant must be an object"))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Fields::open(self.inner, self.tag, variant, len)
    }
}

/// The struct a newtype variant holds, written with the tag in front of its fields.
struct Inline<S> {
    inner: S,
    tag: &'static str,
    variant: &'static str,
}

impl<S: Serializer> Serializer for Inline<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = Impossible<S::Ok, S::Error>;
    type SerializeStruct = Fields<S>;
    type SerializeStructVariant = Impossible<S::Ok, S::Error>;

    refuse_all_but_objects!();

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<S::Ok, S::Error> {
        Err(ser::Error::custom("a tagged variant must be an object"))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<S::Ok, S::Error> {
        Err(ser::Error::custom("a tagged variant must be an object"))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Fields::open(self.inner, self.tag, self.variant, len)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Err(ser::Error::custom("a tagged variant must be an object"))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Body, ErrorCode, Event, OutboxState, Response, ServerFrame};

    fn read<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    /// Exactly what serde's `#[serde(tag)]` wrote before: the tag, then the fields in order.
    #[test]
    fn unit_struct_and_newtype_variants_are_written_tag_first() {
        let cases = [
            (
                ServerFrame::Response {
                    id: 3,
                    body: Response::Done,
                },
                r#"{"type":"response","id":3,"body":{"kind":"done"}}"#,
            ),
            (
                ServerFrame::Event {
                    event: Event::Collecting { done: 1, total: 2 },
                },
                r#"{"type":"event","event":{"kind":"collecting","done":1,"total":2}}"#,
            ),
            (
                ServerFrame::Response {
                    id: 4,
                    body: Response::Message(Box::new(crate::MessageView {
                        body: Body::Text { text: "hi".into() },
                        ..Default::default()
                    })),
                },
                concat!(
                    r#"{"type":"response","id":4,"body":{"kind":"message","folder":"","uid":0,"#,
                    r#""from":null,"to":[],"cc":[],"reply_to":[],"subject":"","date":0,"#,
                    r#""message_id":null,"references":[],"thread_id":null,"#,
                    r#""body":{"kind":"text","text":"hi"},"attachments":[],"unread":false,"#,
                    r#""flagged":false,"answered":false,"keywords":[],"damaged":false,"#,
                    r#""truncated":false,"forged_from":false,"images_allowed":false}}"#
                ),
            ),
        ];
        for (frame, json) in cases {
            assert_eq!(serde_json::to_string(&frame).unwrap(), json);
            assert_eq!(read::<ServerFrame>(json).unwrap(), frame);
        }
        assert_eq!(
            serde_json::to_string(&OutboxState::Waiting { send_at: 5 }).unwrap(),
            r#"{"state":"waiting","send_at":5}"#
        );
    }

    #[test]
    fn an_object_whose_tag_is_not_first_is_refused_with_a_clear_error() {
        let error = read::<ServerFrame>(r#"{"id":3,"type":"response","body":{"kind":"done"}}"#)
            .unwrap_err();
        assert!(error.contains(r#"the key "type" first"#), "{error}");
        let error = read::<Response>("{}").unwrap_err();
        assert!(error.contains("missing field `kind`"), "{error}");
        let error = read::<Response>(r#"{"kind":"format_disk"}"#).unwrap_err();
        assert!(error.contains("unknown variant `format_disk`"), "{error}");
        let error = read::<Response>(r#"["done"]"#).unwrap_err();
        assert!(error.contains(r#"first key is "kind""#), "{error}");
    }

    /// As with serde's form, a newer relay may add fields an older app does not know.
    #[test]
    fn keys_the_app_does_not_know_are_ignored() {
        assert_eq!(
            read::<Response>(r#"{"kind":"done","new":{"a":[1]}}"#).unwrap(),
            Response::Done
        );
        assert_eq!(
            read::<Response>(r#"{"kind":"queued","send_at":5,"new":true}"#).unwrap(),
            Response::Queued { send_at: 5 }
        );
        assert_eq!(
            read::<ServerFrame>(
                r#"{"type":"error","id":null,"error":{"code":"try_later","message":"m"},"x":0}"#
            )
            .unwrap(),
            ServerFrame::Error {
                id: None,
                error: crate::ErrorInfo::new(ErrorCode::TryLater, "m"),
            }
        );
    }
}
