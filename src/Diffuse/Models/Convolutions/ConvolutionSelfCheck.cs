using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Models.Convolutions;

/// <summary>
/// Tiny convolutions on one route against float64 (which oneDNN never runs): the output and the input, weight and bias
/// gradients of 2-D convolutions (3×3 and 1×1, stride 1 and 2), a 1-D convolution and a transposed one, for channel
/// counts that are and are not multiples of the block (1, 3, 8, 24, 40, 48, 64 and 16), in float32 and bfloat16, each
/// after <see cref="AllocatorPoison.Fill"/>. A few tens of milliseconds; draws from its own generator, so it changes
/// no seeded result.
/// </summary>
public static class ConvolutionSelfCheck
{
    /// <summary>One probe: the kind of convolution, its channels, kernel, stride and number type.</summary>
    public sealed record Probe(ConvolutionKind Kind, int In, int Out, int Kernel, int Stride, ScalarType Dtype)
    {
        public override string ToString() =>
            $"{Kind switch { ConvolutionKind.Conv2d => "conv2d", ConvolutionKind.Conv1d => "conv1d", _ => "conv_transpose2d" }} {In}->{Out} " +
            $"{Kernel}x{Kernel}{(Stride > 1 ? $" stride {Stride}" : "")} {(Dtype == ScalarType.BFloat16 ? "bf16" : "fp32")}";
    }

    /// <summary>The convolutions a network may run.</summary>
    public enum ConvolutionKind { Conv2d, Conv1d, ConvTranspose2d }

    /// <summary>The probes of the self-check.</summary>
    public static IReadOnlyList<Probe> Probes { get; } = BuildProbes();

    private static List<Probe> BuildProbes()
    {
        var probes = new List<Probe>();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            foreach (var (cin, cout) in new[] { (24, 24), (1, 24), (24, 1), (8, 8), (40, 40), (64, 3), (3, 64), (48, 48), (16, 16) })
                probes.Add(new Probe(ConvolutionKind.Conv2d, cin, cout, 3, 1, dtype));
            probes.Add(new Probe(ConvolutionKind.Conv2d, 24, 24, 3, 2, dtype));
            probes.Add(new Probe(ConvolutionKind.Conv2d, 24, 72, 1, 1, dtype));
            probes.Add(new Probe(ConvolutionKind.Conv1d, 24, 24, 3, 1, dtype));
            probes.Add(new Probe(ConvolutionKind.ConvTranspose2d, 24, 24, 4, 2, dtype));
        }
        return probes;
    }

    /// <summary>The relative error (L2 norm of the difference over the reference's) above which a probe is wrong:
    /// right kernels measure about 2e-7 in float32 and 3e-3 in bfloat16 (rounding of the output), the fault 0.3 or NaN.</summary>
    public static double Tolerance(ScalarType dtype) => dtype == ScalarType.BFloat16 ? 3e-2 : 1e-4;

    /// <summary>The first probe that <paramref name="route"/> gets wrong, described in a few words, or null when all are right.</summary>
    public static string? FirstFault(ConvolutionRoute route)
    {
        using var grad = enable_grad();
        var generator = new Generator(20260717, new Device(DeviceType.CPU));
        try
        {
            foreach (var probe in Probes)
            {
                var errors = Measure(route, probe, generator);
                var worst = errors.MaxBy(e => double.IsFinite(e.Error) ? e.Error : double.PositiveInfinity);
                if (!(worst.Error <= Tolerance(probe.Dtype)))
                    return $"{probe} {worst.Name} " + (double.IsFinite(worst.Error)
                        ? $"off by {worst.Error.ToString("0.###", CultureInfo.InvariantCulture)} (relative)"
                        : "not finite");
            }
            return null;
        }
        finally
        {
            generator.Dispose();
        }
    }

    /// <summary>The relative errors of one probe's output and gradients on <paramref name="route"/> against float64.</summary>
    public static IReadOnlyList<(string Name, double Error)> Measure(ConvolutionRoute route, Probe probe, Generator generator)
    {
        using var scope = NewDisposeScope();
        var cpu = new Device(DeviceType.CPU);
        long[] inputShape = probe.Kind == ConvolutionKind.Conv1d ? [2, probe.In, 16] : [2, probe.In, 8, 8];
        long[] weightShape = probe.Kind switch
        {
            ConvolutionKind.Conv1d => [probe.Out, probe.In, probe.Kernel],
            ConvolutionKind.ConvTranspose2d => [probe.In, probe.Out, probe.Kernel, probe.Kernel],
            _ => [probe.Out, probe.In, probe.Kernel, probe.Kernel],
        };
        // The reference sees the same (rounded) numbers as the probe, so only the convolution's own error remains.
        var x = randn(inputShape, generator: generator, device: cpu).to(probe.Dtype);
        var w = (randn(weightShape, generator: generator, device: cpu) * (1.0 / Math.Sqrt(probe.In * probe.Kernel))).to(probe.Dtype);
        var b = randn(probe.Out, generator: generator, device: cpu).to(probe.Dtype);

        var (y64, gx64, gw64, gb64, upstream) = Run(ConvolutionRoute.OneDnnOff, probe, x.to(ScalarType.Float64), w.to(ScalarType.Float64), b.to(ScalarType.Float64), null, generator);
        AllocatorPoison.Fill();
        var (y, gx, gw, gb, _) = Run(route, probe, x, w, b, upstream.to(probe.Dtype), generator);
        return [("output", Relative(y, y64)), ("input gradient", Relative(gx, gx64)), ("weight gradient", Relative(gw, gw64)), ("bias gradient", Relative(gb, gb64))];
    }

    private static (Tensor Y, Tensor Gx, Tensor Gw, Tensor Gb, Tensor Upstream) Run(
        ConvolutionRoute route, Probe probe, Tensor x, Tensor w, Tensor b, Tensor? upstream, Generator generator)
    {
        var xl = x.detach().requires_grad_();
        var wl = w.detach().requires_grad_();
        var bl = b.detach().requires_grad_();
        long padding = probe.Kernel / 2;
        var y = probe.Kind switch
        {
            ConvolutionKind.Conv1d => Convolution.Conv1d(route, xl, wl, bl, probe.Stride, padding),
            ConvolutionKind.ConvTranspose2d => Convolution.ConvTranspose2d(route, xl, wl, bl, probe.Stride, 1, 0),
            _ => Convolution.Conv2d(route, xl, wl, bl, probe.Stride, padding),
        };
        upstream ??= randn(y.shape, generator: generator, device: y.device).to(probe.Dtype).to(ScalarType.Float64);
        y.backward([upstream]);
        return (y.detach(), xl.grad!, wl.grad!, bl.grad!, upstream);
    }

    private static double Relative(Tensor value, Tensor reference)
    {
        using var scope = NewDisposeScope();
        var difference = (value.to(ScalarType.Float64) - reference).norm().item<double>();
        return difference / Math.Max(reference.norm().item<double>(), 1e-30);
    }
}
