using System.Buffers.Binary;
using System.IO.Compression;

namespace Diffuse.IO;

/// <summary>
/// The IDX format of the MNIST files (LeCun et al., yann.lecun.com/exdb/mnist): two zero bytes,
/// a type byte (0x08 = unsigned byte, the only type read here), the number of dimensions, each
/// dimension as a big-endian uint32, then the values in row-major order. Files ending in ".gz"
/// are gunzipped on the fly.
/// </summary>
internal static class IdxFile
{
    const byte UnsignedByte = 0x08;

    /// <summary>One IDX array of unsigned bytes: its dimensions and its values, row-major.</summary>
    internal sealed record Contents(int[] Dimensions, byte[] Values);

    /// <summary>
    /// Reads an unsigned-byte IDX file with <paramref name="expectedRank"/> dimensions (any when
    /// null). A bad magic number, a wrong rank or a length that disagrees with the dimensions is a
    /// one-line <see cref="DiffuseException"/> that names the file.
    /// </summary>
    public static Contents Read(string path, int? expectedRank = null)
    {
        byte[] bytes;
        try
        {
            bytes = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? Gunzip(path) : File.ReadAllBytes(path);
        }
        catch (InvalidDataException e)
        {
            throw new DiffuseException($"IDX file '{path}' is not a valid gzip file ({e.Message})", e);
        }
        return Parse(bytes, path, expectedRank);
    }

    /// <summary>Parses IDX bytes; <paramref name="name"/> only names the source in error messages.</summary>
    public static Contents Parse(ReadOnlySpan<byte> bytes, string name, int? expectedRank = null)
    {
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new DiffuseException($"IDX file '{name}' has a bad magic number; it is not an IDX file");
        if (bytes[2] != UnsignedByte)
            throw new DiffuseException($"IDX file '{name}' holds element type 0x{bytes[2]:x2}; only unsigned bytes (0x08) are supported");
        int rank = bytes[3];
        if (rank == 0 || (expectedRank is { } r && rank != r))
            throw new DiffuseException($"IDX file '{name}' has {rank} dimensions; expected {expectedRank?.ToString() ?? "at least 1"}");
        var headerLength = 4 + 4 * rank;
        if (bytes.Length < headerLength)
            throw new DiffuseException($"IDX file '{name}' is truncated inside its header ({bytes.Length} bytes)");
        var dims = new int[rank];
        long count = 1;
        for (var i = 0; i < rank; i++)
        {
            var d = BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(4 + 4 * i, 4));
            if (d == 0 || d > int.MaxValue) throw new DiffuseException($"IDX file '{name}' has an invalid dimension {d}");
            dims[i] = (int)d;
            count *= d;
        }
        var expected = headerLength + count;
        if (bytes.Length < expected)
            throw new DiffuseException($"IDX file '{name}' is truncated: its header promises {expected} bytes but it has {bytes.Length}");
        if (bytes.Length > expected)
            throw new DiffuseException($"IDX file '{name}' has {bytes.Length - expected} bytes after its data; it is not a valid IDX file");
        return new Contents(dims, bytes[headerLength..].ToArray());
    }

    /// <summary>Writes an unsigned-byte IDX array to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, ReadOnlySpan<int> dimensions, ReadOnlySpan<byte> values)
    {
        if (dimensions.Length is 0 or > 255) throw new ArgumentException("an IDX array has 1 to 255 dimensions", nameof(dimensions));
        long count = 1;
        foreach (var d in dimensions)
        {
            if (d < 1) throw new ArgumentException($"dimension {d} is not positive", nameof(dimensions));
            count *= d;
        }
        if (count != values.Length) throw new ArgumentException($"{values.Length} values do not fill dimensions [{string.Join(", ", dimensions.ToArray())}]", nameof(values));
        var header = new byte[4 + 4 * dimensions.Length];
        header[2] = UnsignedByte;
        header[3] = (byte)dimensions.Length;
        for (var i = 0; i < dimensions.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4 + 4 * i), (uint)dimensions[i]);
        stream.Write(header);
        stream.Write(values);
    }

    /// <summary>Writes an unsigned-byte IDX file atomically (uncompressed, whatever its name).</summary>
    public static void WriteFile(string path, int[] dimensions, byte[] values) =>
        AtomicFile.Write(path, s => Write(s, dimensions, values));

    static byte[] Gunzip(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        return memory.ToArray();
    }
}
