using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.IO;

/// <summary>
/// Reads and writes the safetensors format (https://github.com/huggingface/safetensors): an 8-byte
/// little-endian header length N, N bytes of UTF-8 JSON header
/// (<c>{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, "__metadata__": {...}}</c>,
/// possibly padded with spaces), then the tensors' raw little-endian bytes, with offsets relative to
/// the start of that data section. Writes are atomic; reads validate the whole header against the
/// file before allocating any tensor, and every problem is a one-line <see cref="DiffuseException"/>.
/// </summary>
/// <summary>One tensor of a safetensors header: its name, dtype and shape.</summary>
public sealed record TensorHeader(string Name, ScalarType Dtype, long[] Shape)
{
    /// <summary>The number of values (the product of the shape).</summary>
    public long Elements => Shape.Aggregate(1L, (n, d) => n * d);
}

public static class SafeTensors
{
    /// <summary>The largest header we accept, as in the reference implementation; it stops a damaged length from allocating gigabytes.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    const string MetadataKey = "__metadata__";

    static readonly (string Code, ScalarType Type, int ItemSize)[] Dtypes =
    {
        ("F64", ScalarType.Float64, 8),
        ("F32", ScalarType.Float32, 4),
        ("F16", ScalarType.Float16, 2),
        ("BF16", ScalarType.BFloat16, 2),
        ("I64", ScalarType.Int64, 8),
        ("I32", ScalarType.Int32, 4),
        ("I16", ScalarType.Int16, 2),
        ("I8", ScalarType.Int8, 1),
        ("U8", ScalarType.Byte, 1),
        ("BOOL", ScalarType.Bool, 1),
    };

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    sealed record Entry(string Name, ScalarType Dtype, int ItemSize, long[] Shape, long Begin, long End);

    /// <summary>
    /// Writes <paramref name="tensors"/> (any device, any layout; they are not modified) and
    /// <paramref name="metadata"/> to <paramref name="path"/> atomically, names in ordinal order,
    /// the header padded with spaces so that the data section starts on an 8-byte boundary.
    /// </summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
        var entries = new List<Entry>(names.Length);
        long offset = 0;
        foreach (var name in names)
        {
            if (name == MetadataKey) throw new ArgumentException($"a tensor cannot be named '{MetadataKey}'", nameof(tensors));
            var tensor = tensors[name];
            var (code, itemSize) = Find(tensor.dtype)
                ?? throw new ArgumentException($"tensor '{name}' has dtype {tensor.dtype}, which safetensors cannot store; expected one of {string.Join(", ", Dtypes.Select(d => d.Type))}", nameof(tensors));
            var size = tensor.numel() * itemSize;
            entries.Add(new Entry(name, tensor.dtype, itemSize, tensor.shape, offset, offset + size));
            offset += size;
        }
        var header = BuildHeader(entries, metadata);

        AtomicFile.Write(path, stream =>
        {
            var length = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var name in names) WriteData(stream, tensors[name]);
        });
    }

    /// <summary>
    /// Reads and validates a safetensors file into CPU tensors. The caller owns the result and disposes it.
    /// </summary>
    public static SafeTensorsFile Read(string path)
    {
        var (stream, entries, metadata) = OpenValidated(path);
        using var _ = stream;
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            // The layout check proved the data section is covered exactly, in offset order, so
            // one forward pass reads every tensor.
            foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
                tensors.Add(entry.Name, ReadData(path, stream, entry));
        }
        catch
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
            throw;
        }
        return new SafeTensorsFile(tensors, metadata);
    }

    /// <summary>
    /// The names, dtypes and shapes a safetensors file holds, in the order of their data, validated as <see cref="Read"/>
    /// validates them (the header against the file's length) but without reading or allocating any tensor: what a load
    /// compares with the network before it reads the data.
    /// </summary>
    public static IReadOnlyList<TensorHeader> ReadHeader(string path)
    {
        var (stream, entries, _) = OpenValidated(path);
        stream.Dispose();
        return entries.OrderBy(e => e.Begin).ThenBy(e => e.End).Select(e => new TensorHeader(e.Name, e.Dtype, e.Shape)).ToArray();
    }

    /// <summary>Opens <paramref name="path"/>, reads and checks its header and layout, and leaves the stream at the data section.</summary>
    static (FileStream Stream, List<Entry> Entries, Dictionary<string, string> Metadata) OpenValidated(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var stream = Open(path);
        try
        {
            var fileLength = stream.Length;
            if (fileLength < 8)
                throw Truncated(path, $"it has {fileLength} bytes, fewer than the 8 of the header length");
            var lengthBytes = new byte[8];
            stream.ReadExactly(lengthBytes);
            var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (headerLength == 0) throw Invalid(path, "the header length is 0");
            if (headerLength > MaxHeaderBytes)
                throw Invalid(path, $"the header length {headerLength} is over the limit of {MaxHeaderBytes} bytes");
            if (headerLength > (ulong)(fileLength - 8))
                throw Truncated(path, $"the header length is {headerLength} bytes but only {fileLength - 8} bytes follow it");

            var header = new byte[headerLength];
            stream.ReadExactly(header);
            var (entries, metadata) = ParseHeader(path, header);
            CheckLayout(path, entries, fileLength - 8 - (long)headerLength);
            return (stream, entries, metadata);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>The safetensors code of a dtype (<c>F32</c>), or its TorchSharp name when safetensors has none.</summary>
    internal static string DtypeName(ScalarType dtype) => Find(dtype)?.Code ?? dtype.ToString();

    static (string Code, int ItemSize)? Find(ScalarType dtype)
    {
        foreach (var d in Dtypes)
            if (d.Type == dtype) return (d.Code, d.ItemSize);
        return null;
    }

    static byte[] BuildHeader(List<Entry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    json.WriteString(key, value ?? throw new ArgumentException($"metadata '{key}' is null", nameof(metadata)));
                json.WriteEndObject();
            }
            foreach (var e in entries)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", DtypeName(e.Dtype));
                json.WriteStartArray("shape");
                foreach (var d in e.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(e.Begin);
                json.WriteNumberValue(e.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // 8 + N being a multiple of 8 aligns the data section, so readers may map tensors in place.
        while (buffer.Length % 8 != 0) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    static void WriteData(Stream stream, Tensor tensor)
    {
        if (tensor.numel() == 0) return;
        using var scope = NewDisposeScope();
        var contiguous = tensor.detach().cpu().contiguous();
        stream.Write(contiguous.bytes);
    }

    static FileStream Open(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DiffuseException(Directory.Exists(path) ? $"{path} is a folder, not a safetensors file" : $"{path} does not exist");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DiffuseException($"cannot read {path}: {e.Message}", e);
        }
    }

    static (List<Entry> Entries, Dictionary<string, string> Metadata) ParseHeader(string path, byte[] header)
    {
        if (header[0] != (byte)'{') throw Invalid(path, "the header does not start with '{'");
        try
        {
            StrictUtf8.GetCharCount(header);
        }
        catch (DecoderFallbackException)
        {
            throw Invalid(path, "the header is not valid UTF-8");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Invalid(path, $"the header is not valid JSON ({FirstLine(e.Message)})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Invalid(path, "the header is not a JSON object");
            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name)) throw Invalid(path, $"the header names '{property.Name}' twice");
                if (property.Name == MetadataKey) ReadMetadata(path, property.Value, metadata);
                else entries.Add(ParseEntry(path, property.Name, property.Value));
            }
            return (entries, metadata);
        }
    }

    static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Invalid(path, $"'{MetadataKey}' is not an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Invalid(path, $"metadata '{item.Name}' is a {item.Value.ValueKind.ToString().ToLowerInvariant()}, not a string");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw Invalid(path, $"metadata '{item.Name}' appears twice");
        }
    }

    static Entry ParseEntry(string path, string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Invalid(path, $"tensor '{name}' is not an object");
        if (!value.TryGetProperty("dtype", out var dtypeElement)) throw Invalid(path, $"tensor '{name}' has no dtype");
        if (!value.TryGetProperty("shape", out var shapeElement)) throw Invalid(path, $"tensor '{name}' has no shape");
        if (!value.TryGetProperty("data_offsets", out var offsetsElement)) throw Invalid(path, $"tensor '{name}' has no data_offsets");

        var code = dtypeElement.ValueKind == JsonValueKind.String ? dtypeElement.GetString()! : dtypeElement.GetRawText();
        var dtype = Dtypes.FirstOrDefault(d => d.Code == code);
        if (dtype.Code is null)
            throw Invalid(path, $"tensor '{name}' has unknown dtype '{code}'; expected one of {string.Join(", ", Dtypes.Select(d => d.Code))}");

        var shape = ReadIntegers(shapeElement)
            ?? throw Invalid(path, $"tensor '{name}' has shape {shapeElement.GetRawText()}, not a list of non-negative integers");
        var offsets = ReadIntegers(offsetsElement);
        if (offsets is not { Length: 2 })
            throw Invalid(path, $"tensor '{name}' has data_offsets {offsetsElement.GetRawText()}, not [begin, end] with non-negative integers");
        return new Entry(name, dtype.Type, dtype.ItemSize, shape, offsets[0], offsets[1]);
    }

    /// <summary>A JSON array of non-negative 64-bit integers, or null when it is anything else.</summary>
    static long[]? ReadIntegers(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Array) return null;
        var values = new long[element.GetArrayLength()];
        var i = 0;
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var v) || v < 0) return null;
            values[i++] = v;
        }
        return values;
    }

    /// <summary>Each tensor's byte range must hold exactly its elements, and together they must tile the data section with no gap, overlap or trailing bytes.</summary>
    static void CheckLayout(string path, List<Entry> entries, long dataLength)
    {
        long lastEnd = 0;
        foreach (var e in entries)
        {
            if (e.Begin > e.End) throw Invalid(path, $"tensor '{e.Name}' has data_offsets [{e.Begin}, {e.End}] that end before they begin");
            long needed;
            try
            {
                needed = checked(e.Shape.Aggregate(1L, (n, d) => n * d) * e.ItemSize);
            }
            catch (OverflowException)
            {
                throw Invalid(path, $"tensor '{e.Name}' has shape {Format(e.Shape)}, too large to hold");
            }
            if (e.End - e.Begin != needed)
                throw Invalid(path, $"tensor '{e.Name}' has data_offsets [{e.Begin}, {e.End}] ({e.End - e.Begin} bytes) but shape {Format(e.Shape)} of {DtypeName(e.Dtype)} needs {needed} bytes");
            lastEnd = Math.Max(lastEnd, e.End);
        }
        if (lastEnd > dataLength)
            throw Truncated(path, $"header says {lastEnd} bytes of tensor data but the file has {dataLength}");

        long covered = 0;
        Entry? previous = null;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin < covered)
                throw Invalid(path, $"tensors '{previous!.Name}' and '{e.Name}' overlap (bytes [{previous.Begin}, {previous.End}] and [{e.Begin}, {e.End}])");
            if (e.Begin > covered)
                throw Invalid(path, $"no tensor holds data bytes [{covered}, {e.Begin}]");
            covered = e.End;
            previous = e;
        }
        if (covered < dataLength)
            throw Invalid(path, $"{dataLength - covered} bytes follow the last tensor's data");
    }

    static Tensor ReadData(string path, FileStream stream, Entry entry)
    {
        var tensor = empty(entry.Shape, entry.Dtype, device: CPU); // CPU whatever the default device (--device cuda): the bytes are written here
        try
        {
            var size = entry.End - entry.Begin;
            if (size == 0) return tensor;
            if (size > int.MaxValue) throw Invalid(path, $"tensor '{entry.Name}' has {size} bytes; tensors over 2 GiB are not supported");
            var bytes = new byte[size];
            try
            {
                stream.ReadExactly(bytes);
            }
            catch (EndOfStreamException)
            {
                throw Truncated(path, "the file ended while its tensor data was being read");
            }
            // A bool byte other than 0 or 1 is undefined behaviour in libtorch, so it is refused here.
            if (entry.Dtype == ScalarType.Bool && bytes.AsSpan().IndexOfAnyExcept((byte)0, (byte)1) >= 0)
                throw Invalid(path, $"BOOL tensor '{entry.Name}' holds a byte other than 0 or 1");
            tensor.bytes = bytes;
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    static DiffuseException Invalid(string path, string problem) => new($"{path} is not a valid safetensors file: {problem}");

    static DiffuseException Truncated(string path, string problem) => new($"{path} is truncated: {problem}");

    static string Format(long[] shape) => $"[{string.Join(", ", shape)}]";

    static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
