using TorchSharp;

namespace Diffuse.Process;

/// <summary>Noise drawn from an explicit generator (TorchSharp's <c>randn_like</c> takes none).</summary>
public static class Noise
{
    /// <summary>
    /// Standard normal noise with <paramref name="x"/>'s shape, dtype and device. It is drawn on the CPU
    /// from <paramref name="generator"/> and then moved, so a seed gives the same noise on every device.
    /// </summary>
    public static torch.Tensor RandnLike(torch.Tensor x, torch.Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var cpu = torch.randn(x.shape, x.dtype, torch.CPU, generator: generator);
        if (x.device_type == DeviceType.CPU) return cpu;
        using (cpu) return cpu.to(x.device);
    }
}
