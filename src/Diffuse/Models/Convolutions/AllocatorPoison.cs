using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Models.Convolutions;

/// <summary>
/// Fills the allocator's free lists with NaN: many CPU tensors of sizes from 256 bytes to 256 KiB are filled with NaN and
/// freed together, so that the buffers libtorch hands out next (oneDNN's reorder and scratch buffers among them) start as
/// NaN instead of whatever happened to be there. A kernel that reads memory it never wrote then gives NaN or a large
/// error on every run instead of only sometimes, which is how <see cref="ConvolutionSelfCheck"/> and the tests make a
/// stale-memory fault show deterministically.
/// </summary>
internal static class AllocatorPoison
{
    /// <summary>Allocates, fills with NaN and frees a spread of CPU buffers (a few MiB in all, about a millisecond).</summary>
    public static void Fill()
    {
        using var scope = NewDisposeScope();
        var cpu = new Device(DeviceType.CPU);
        for (long floats = 64; floats <= 64 * 1024; floats = floats * 5 / 4 + 16)
        {
            for (int copy = 0; copy < 3; copy++)
                full(floats + 3 * copy, float.NaN, dtype: ScalarType.Float32, device: cpu);
        }
    }
}
