// The OTLP trace messages as protobufjs types, written from opentelemetry-proto
// (collector/trace/v1/trace_service.proto, trace/v1/trace.proto, common/v1/common.proto,
// resource/v1/resource.proto). @opentelemetry/otlp-transformer no longer ships generated
// decoders (it has a hand-written encoder and only decodes responses), so the request side
// is described here. Only the fields Baton reads are typed; protobufjs skips the rest.
import protobuf from 'protobufjs';

const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;

message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
message ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }

message ResourceSpans {
  Resource resource = 1;
  repeated ScopeSpans scope_spans = 2;
  string schema_url = 3;
}
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeSpans {
  InstrumentationScope scope = 1;
  repeated Span spans = 2;
  string schema_url = 3;
}
message InstrumentationScope {
  string name = 1;
  string version = 2;
  repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  repeated Event events = 11;
  uint32 dropped_events_count = 12;
  repeated Link links = 13;
  uint32 dropped_links_count = 14;
  Status status = 15;
}
message Event {
  fixed64 time_unix_nano = 1;
  string name = 2;
  repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}
message Link {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  repeated KeyValue attributes = 4;
  uint32 dropped_attributes_count = 5;
  fixed32 flags = 6;
}
message Status { string message = 2; int32 code = 3; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
`;

const root = protobuf.parse(OTLP_TRACE_PROTO, { keepCase: false }).root;
const ExportRequest = root.lookupType('otlp.ExportTraceServiceRequest');

/** Decodes an ExportTraceServiceRequest; throws (protobufjs' message) on malformed input. */
export function decodeExportRequest(bytes: Uint8Array): unknown {
  return ExportRequest.decode(bytes);
}

/**
 * How many spans an encoded request holds, without decoding them: walks only the
 * length-delimited frames of resource_spans (1) → scope_spans (2) → spans (2). Lets the
 * ingest refuse a request of a million tiny spans before allocating a million objects.
 * Returns undefined when the framing is broken; the decoder then says why.
 */
export function countEncodedSpans(bytes: Uint8Array): number | undefined {
  let count = 0;
  const ok = eachField(bytes, 0, bytes.length, (field, start, end) => {
    if (field !== 1) return true;
    return eachField(bytes, start, end, (field, start, end) => {
      if (field !== 2) return true;
      return eachField(bytes, start, end, (field) => {
        if (field === 2) count++;
        return true;
      });
    });
  });
  return ok ? count : undefined;
}

/** Calls `visit` for each length-delimited field in [from, to); false on broken framing. */
function eachField(
  bytes: Uint8Array,
  from: number,
  to: number,
  visit: (field: number, start: number, end: number) => boolean,
): boolean {
  let pos = from;
  const varint = (): number => {
    let result = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (pos >= to) return -1;
      const byte = bytes[pos++]!;
      // Numbers (not bit operations): lengths beyond 2^31 must not wrap to negatives.
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
    }
    return -1;
  };
  while (pos < to) {
    const tag = varint();
    if (tag < 0) return false;
    switch (tag % 8) {
      case 0:
        if (varint() < 0) return false;
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const length = varint();
        if (length < 0 || pos + length > to) return false;
        if (!visit(Math.floor(tag / 8), pos, pos + length)) return false;
        pos += length;
        break;
      }
      default:
        return false;
    }
  }
  return pos === to;
}
