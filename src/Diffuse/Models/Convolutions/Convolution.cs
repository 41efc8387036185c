using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Models.Convolutions;

/// <summary>
/// Every convolution of Diffuse's networks runs through here, on the route that the startup self-check found correct
/// on this CPU.
/// <para>
/// Why: oneDNN 3.7.1 inside libtorch 2.10 (TorchSharp 0.107) computes some float32 and bfloat16 convolutions wrongly on
/// some x86-64 CPUs (seen on AMD Zen 5): when a channel count is not a multiple of its register block (16 for AVX-512,
/// 8 for AVX2), the padded tail of the block is read without having been zeroed, so outputs and gradients take
/// whatever the allocator handed back (NaN, or silently wrong numbers). Other CPUs (AMD Zen 4, for one) are right.
/// The first time a network is built (and again whenever libtorch's thread count changes), <see cref="ConvolutionSelfCheck"/>
/// runs a few tiny convolutions with the allocator poisoned against float64 ones, which oneDNN never runs, and keeps
/// the first route of <see cref="ConvolutionRoute.OneDnn"/>, <see cref="ConvolutionRoute.PaddedChannels"/> and
/// <see cref="ConvolutionRoute.OneDnnOff"/> that is right; if none is, it stops with a one-line error rather than let
/// a network train or sample on wrong numbers.
/// </para>
/// </summary>
public static class Convolution
{
    /// <summary>The channel multiple the padded route rounds up to: AVX-512's block of 16 floats (AVX2's 8 divides it).</summary>
    public const int ChannelBlock = 16;

    private static readonly object gate = new();
    private static ConvolutionRoute? chosen;
    private static int checkedThreads;
    private static bool forced;
    private static string? finding;

    /// <summary>
    /// The route in use, choosing it by the self-check first if no route was chosen yet or libtorch's thread count
    /// changed since. A <see cref="DiffuseException"/> when no route is right on this machine.
    /// </summary>
    public static ConvolutionRoute Route
    {
        get
        {
            var known = chosen;
            if (known is { } route && (forced || checkedThreads == torch.get_num_threads())) return route;
            return Check();
        }
    }

    /// <summary>What the last self-check found: the route and, when oneDNN alone was wrong, the first wrong case.</summary>
    public static string Describe()
    {
        var route = Route;
        lock (gate)
        {
            string name = route switch
            {
                ConvolutionRoute.OneDnn => "oneDNN",
                ConvolutionRoute.PaddedChannels => $"oneDNN with channels padded to multiples of {ChannelBlock}",
                _ => "libtorch without oneDNN",
            };
            return forced ? $"{name} (set by the program)"
                : finding is null ? $"{name} (self-check passed at {checkedThreads} thread(s))"
                : $"{name} (oneDNN alone failed the self-check at {checkedThreads} thread(s): {finding})";
        }
    }

    /// <summary>
    /// Uses <paramref name="route"/> from now on without a self-check, or (null) goes back to choosing by the
    /// self-check. For measuring the routes against each other and for tests; a program never needs it for correct
    /// results, and a route forced here is not checked.
    /// </summary>
    public static void Force(ConvolutionRoute? route)
    {
        lock (gate)
        {
            if (route is { } r)
            {
                if (!Apply(r)) throw new DiffuseException("this libtorch does not export the switch that turns oneDNN off (at::Context::setUserEnabledMkldnn)");
                chosen = r;
                forced = true;
            }
            else
            {
                forced = false;
                chosen = null;
                finding = null;
                LibTorchNative.TrySetOneDnn(true);
            }
        }
    }

    /// <summary>Runs the self-check (unless it already ran at the current thread count) and keeps the first right route.</summary>
    public static ConvolutionRoute Check()
    {
        lock (gate)
        {
            int threads = torch.get_num_threads();
            if (chosen is { } known && (forced || checkedThreads == threads)) return known;
            LibTorchNative.QuietWarnings();
            try
            {
                var (route, first) = Choose(r => Apply(r)
                    ? ConvolutionSelfCheck.FirstFault(r)
                    : "this libtorch does not export the switch that turns oneDNN off");
                Apply(route);
                chosen = route;
                checkedThreads = threads;
                finding = first;
                return route;
            }
            catch (DiffuseException)
            {
                LibTorchNative.TrySetOneDnn(true);
                throw;
            }
        }
    }

    /// <summary>
    /// The first route, in the order oneDNN, padded channels, oneDNN off, that <paramref name="firstFault"/> finds
    /// right (null), with the first fault found on the way (null when oneDNN was right); a
    /// <see cref="DiffuseException"/> naming the first fault when none is right.
    /// </summary>
    internal static (ConvolutionRoute Route, string? FirstFinding) Choose(Func<ConvolutionRoute, string?> firstFault)
    {
        string? firstFinding = null;
        foreach (var route in new[] { ConvolutionRoute.OneDnn, ConvolutionRoute.PaddedChannels, ConvolutionRoute.OneDnnOff })
        {
            var fault = firstFault(route);
            if (fault is null) return (route, firstFinding);
            firstFinding ??= fault;
        }
        throw new DiffuseException(
            $"convolutions give wrong results on this CPU by every route Diffuse knows (oneDNN, channels padded to {ChannelBlock}, oneDNN off): {firstFinding}; " +
            "this libtorch cannot train or sample correctly here, please report it with the output of 'diffuse info'");
    }

    // oneDNN on for its own routes (a libtorch without the switch never had it off), off for OneDnnOff where it can be.
    private static bool Apply(ConvolutionRoute route) =>
        LibTorchNative.TrySetOneDnn(route != ConvolutionRoute.OneDnnOff) || route != ConvolutionRoute.OneDnnOff;

    /// <summary>A 2-D convolution (groups 1, zero padding) on the chosen route: <c>conv2d(input, weight, bias, stride, padding)</c>.</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, long stride = 1, long padding = 0) =>
        Conv2d(Route, input, weight, bias, stride, padding);

    /// <summary>A 1-D convolution (groups 1, zero padding) on the chosen route.</summary>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias, long stride = 1, long padding = 0) =>
        Conv1d(Route, input, weight, bias, stride, padding);

    /// <summary>A 2-D transposed convolution (groups 1) on the chosen route; <paramref name="weight"/> is [in, out, kh, kw].</summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias, long stride = 1, long padding = 0, long outputPadding = 0) =>
        ConvTranspose2d(Route, input, weight, bias, stride, padding, outputPadding);

    internal static Tensor Conv2d(ConvolutionRoute route, Tensor input, Tensor weight, Tensor? bias, long stride, long padding) =>
        Run(route, input, weight, bias, spatialDims: 2, transposed: false,
            (x, w, b) => nn.functional.conv2d(x, w, b, [stride, stride], [padding, padding]));

    internal static Tensor Conv1d(ConvolutionRoute route, Tensor input, Tensor weight, Tensor? bias, long stride, long padding) =>
        Run(route, input, weight, bias, spatialDims: 1, transposed: false,
            (x, w, b) => nn.functional.conv1d(x, w, b, stride, padding));

    internal static Tensor ConvTranspose2d(ConvolutionRoute route, Tensor input, Tensor weight, Tensor? bias, long stride, long padding, long outputPadding) =>
        Run(route, input, weight, bias, spatialDims: 2, transposed: true,
            (x, w, b) => nn.functional.conv_transpose2d(x, w, b, [stride, stride], [padding, padding], [outputPadding, outputPadding]));

    /// <summary>
    /// <paramref name="convolution"/> as it is, or on the padded route with the input's channels and the weight's in and
    /// out channels zero-padded to multiples of <see cref="ChannelBlock"/> and the extra output channels cut off. The
    /// weight is [out, in, k...] ([in, out, k...] when <paramref name="transposed"/>).
    /// </summary>
    private static Tensor Run(ConvolutionRoute route, Tensor input, Tensor weight, Tensor? bias, int spatialDims, bool transposed,
        Func<Tensor, Tensor, Tensor?, Tensor> convolution)
    {
        long inChannels = weight.shape[transposed ? 0 : 1], outChannels = weight.shape[transposed ? 1 : 0];
        if (!NeedsPadding(route, input, inChannels, outChannels)) return convolution(input, weight, bias);
        using var scope = NewDisposeScope();
        long padIn = Pad(inChannels), padOut = Pad(outChannels);
        // F.pad lists (before, after) pairs from the last dimension back: the spatial ones, then channels.
        long[] spatial = new long[2 * spatialDims];
        var x = padIn == 0 ? input : nn.functional.pad(input, [.. spatial, 0, padIn]);
        var w = nn.functional.pad(weight, transposed ? [.. spatial, 0, padOut, 0, padIn] : [.. spatial, 0, padIn, 0, padOut]);
        var b = bias is null || padOut == 0 ? bias : nn.functional.pad(bias, [0, padOut]);
        var y = convolution(x, w, b);
        return (padOut == 0 ? y : y.narrow(1, 0, outChannels)).MoveToOuterDisposeScope();
    }

    // Only oneDNN's CPU kernels (float32, bfloat16, float16) have the fault; float64 and CUDA run as they are.
    private static bool NeedsPadding(ConvolutionRoute route, Tensor input, long inChannels, long outChannels) =>
        route == ConvolutionRoute.PaddedChannels
        && input.device_type == DeviceType.CPU
        && input.dtype is ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16
        && (inChannels % ChannelBlock != 0 || outChannels % ChannelBlock != 0);

    private static long Pad(long channels) => (ChannelBlock - channels % ChannelBlock) % ChannelBlock;
}
