using System.Collections.Concurrent;
using TorchSharp;

namespace Diffuse.Schedules;

/// <summary>
/// A per-timestep table of numbers kept as one tensor per device, made once on first use and never
/// freed before the table itself is collected. <see cref="Get"/> hands out aliases, so callers may
/// dispose (or let a dispose scope dispose) what they get without harming the cache.
/// </summary>
internal sealed class CachedTable
{
    private readonly double[] _values;
    private readonly torch.ScalarType _dtype;
    private readonly ConcurrentDictionary<string, torch.Tensor> _byDevice = new();

    public CachedTable(double[] values, torch.ScalarType dtype)
    {
        _values = values;
        _dtype = dtype;
    }

    /// <summary>An alias of the cached tensor on <paramref name="device"/> (CPU when null): shared storage, never write to it.</summary>
    public torch.Tensor Get(torch.Device? device = null)
    {
        device ??= torch.CPU;
        var cached = _byDevice.GetOrAdd(device.ToString(), _ => Make(device));
        return cached.alias();
    }

    /// <summary>The entries at <paramref name="t"/> (int64 [B]) shaped [B, 1, ..., 1] to broadcast over a tensor of rank <paramref name="rank"/>.</summary>
    public torch.Tensor Gather(torch.Tensor t, long rank, torch.ScalarType dtype, torch.Device device)
    {
        using var table = Get(device);
        var shape = new long[Math.Max(rank, 1)];
        Array.Fill(shape, 1L);
        shape[0] = t.numel();
        return table.index_select(0, t.reshape(-1).to(torch.int64).to(device)).to(dtype).reshape(shape);
    }

    private torch.Tensor Make(torch.Device device)
    {
        using var _ = torch.NewDisposeScope();
        var t = torch.tensor(_values, torch.float64).to(_dtype).to(device);
        return t.DetachFromDisposeScope();
    }
}
