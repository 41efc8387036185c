using System.Buffers.Binary;
using System.Text;

namespace Diffuse.Tests.IO;

/// <summary>Builds safetensors files byte by byte, independently of our writer.</summary>
static class SafeTensorsBytes
{
    public static byte[] Build(string header, params byte[] data) => Build(Encoding.UTF8.GetBytes(header), data);

    public static byte[] Build(byte[] header, byte[] data)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }
}
