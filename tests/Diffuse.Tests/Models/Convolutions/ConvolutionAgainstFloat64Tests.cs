using Diffuse.Models.Convolutions;
using TorchSharp;
using Xunit;
using static Diffuse.Models.Convolutions.ConvolutionSelfCheck;
using static TorchSharp.torch;

namespace Diffuse.Tests.Models.Convolutions;

/// <summary>
/// Convolutions as the networks run them (the route the self-check chose on this machine), and each route forced,
/// against float64 convolutions (which never run through oneDNN), with the allocator poisoned with NaN before each, so
/// that a kernel reading memory it never wrote (oneDNN 3.7.1's padded channel blocks on some CPUs) fails every time.
/// </summary>
public class ConvolutionAgainstFloat64Tests
{
    static readonly int[] Channels = [1, 3, 8, 24, 40, 48, 32];

    public static TheoryData<ConvolutionKind, int, int, ScalarType> Cases()
    {
        var data = new TheoryData<ConvolutionKind, int, int, ScalarType>();
        foreach (var kind in Enum.GetValues<ConvolutionKind>())
            foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
                // same channels in and out, into a non-multiple, out of a multiple
                foreach (var (cin, cout) in Channels.SelectMany(c => new[] { (c, c), (c, 24), (48, c) }).Distinct())
                    data.Add(kind, cin, cout, dtype);
        return data;
    }

    static Probe ProbeOf(ConvolutionKind kind, int cin, int cout, ScalarType dtype) =>
        new(kind, cin, cout, kind == ConvolutionKind.ConvTranspose2d ? 4 : 3, kind == ConvolutionKind.ConvTranspose2d ? 2 : 1, dtype);

    static void AssertRight(ConvolutionRoute route, Probe probe)
    {
        using var generator = new Generator(7, new Device(DeviceType.CPU));
        foreach (var (name, error) in Measure(route, probe, generator))
            Assert.True(error <= Tolerance(probe.Dtype), $"{route} {probe}: {name} off by {error} (relative; tolerance {Tolerance(probe.Dtype)})");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheChosenRouteMatchesFloat64(ConvolutionKind kind, int cin, int cout, ScalarType dtype) =>
        AssertRight(Convolution.Route, ProbeOf(kind, cin, cout, dtype));

    [Theory]
    [MemberData(nameof(Cases))]
    public void ThePaddedRouteComputesTheSameConvolution(ConvolutionKind kind, int cin, int cout, ScalarType dtype)
    {
        // Only meaningful where oneDNN's blocked kernels are right for block multiples, which the self-check verifies.
        Assert.Null(ConvolutionSelfCheck.FirstFault(ConvolutionRoute.PaddedChannels));
        AssertRight(ConvolutionRoute.PaddedChannels, ProbeOf(kind, cin, cout, dtype));
    }

    [Theory]
    [InlineData(ConvolutionKind.Conv2d)]
    [InlineData(ConvolutionKind.Conv1d)]
    [InlineData(ConvolutionKind.ConvTranspose2d)]
    public void TheRouteWithoutOneDnnMatchesFloat64(ConvolutionKind kind)
    {
        try
        {
            Convolution.Force(ConvolutionRoute.OneDnnOff);
            foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
                foreach (var (cin, cout) in new[] { (24, 24), (1, 24), (24, 1), (48, 48) })
                    AssertRight(ConvolutionRoute.OneDnnOff, ProbeOf(kind, cin, cout, dtype));
        }
        finally
        {
            Convolution.Force(null);
        }
    }

    [Fact]
    public void ThePaddedRouteKeepsShapesStridesAndAStrayBias()
    {
        using var scope = NewDisposeScope();
        var x = randn(3, 5, 9, 9);
        var w = randn(7, 5, 3, 3);
        var y = Convolution.Conv2d(ConvolutionRoute.PaddedChannels, x, w, null, 2, 1);
        var expected = nn.functional.conv2d(x.to(ScalarType.Float64), w.to(ScalarType.Float64), null, [2, 2], [1, 1]);
        Assert.Equal(new long[] { 3, 7, 5, 5 }, y.shape);
        Assert.True((y.to(ScalarType.Float64) - expected).abs().max().item<double>() < 1e-4);
        // float64 and block multiples are left alone (no copies): the result is the plain convolution's.
        var x64 = x.to(ScalarType.Float64);
        Assert.True(Convolution.Conv2d(ConvolutionRoute.PaddedChannels, x64, w.to(ScalarType.Float64), null, 2, 1).equal(expected).all().item<bool>());
    }
}
