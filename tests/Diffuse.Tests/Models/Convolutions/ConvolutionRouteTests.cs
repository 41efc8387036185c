using Diffuse.Models.Convolutions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Models.Convolutions;

public class ConvolutionRouteTests
{
    [Fact]
    public void OneDnnIsKeptWhereItIsRight()
    {
        var (route, finding) = Convolution.Choose(_ => null);
        Assert.Equal(ConvolutionRoute.OneDnn, route);
        Assert.Null(finding);
    }

    [Fact]
    public void AFaultOfOneDnnMovesToThePaddedRouteAndIsReported()
    {
        var tried = new List<ConvolutionRoute>();
        var (route, finding) = Convolution.Choose(r =>
        {
            tried.Add(r);
            return r == ConvolutionRoute.OneDnn ? "conv2d 24->24 3x3 fp32 output off by 0.39 (relative)" : null;
        });
        Assert.Equal(ConvolutionRoute.PaddedChannels, route);
        Assert.Equal("conv2d 24->24 3x3 fp32 output off by 0.39 (relative)", finding);
        Assert.Equal([ConvolutionRoute.OneDnn, ConvolutionRoute.PaddedChannels], tried);
    }

    [Fact]
    public void WhenPaddingIsWrongTooOneDnnIsSwitchedOff()
    {
        var (route, finding) = Convolution.Choose(r => r == ConvolutionRoute.OneDnnOff ? null : $"{r} wrong");
        Assert.Equal(ConvolutionRoute.OneDnnOff, route);
        Assert.Equal("OneDnn wrong", finding);
    }

    [Fact]
    public void WhenEveryRouteIsWrongTheErrorIsOneLineNamingTheFault()
    {
        var error = Assert.Throws<DiffuseException>(() => Convolution.Choose(r => $"conv2d 8->8 3x3 bf16 input gradient not finite ({r})"));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("conv2d 8->8 3x3 bf16 input gradient not finite (OneDnn)", error.Message);
        Assert.Contains("every route", error.Message);
    }

    [Fact]
    public void TheSelfCheckPassesOnThisMachineOnSomeRouteAndIsRedoneWhenTheThreadCountChanges()
    {
        int threads = torch.get_num_threads();
        try
        {
            torch.set_num_threads(1);
            _ = Convolution.Route;
            Assert.Contains("at 1 thread(s)", Convolution.Describe());
            torch.set_num_threads(2);
            _ = Convolution.Route;
            Assert.Contains("at 2 thread(s)", Convolution.Describe());
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }

    [Fact]
    public void ForcingARouteSwitchesOneDnnAndNullGoesBackToTheSelfCheck()
    {
        try
        {
            Convolution.Force(ConvolutionRoute.OneDnnOff);
            Assert.False(LibTorchNative.OneDnnEnabled);
            Assert.Equal(ConvolutionRoute.OneDnnOff, Convolution.Route);
            Assert.Contains("set by the program", Convolution.Describe());
            Convolution.Force(ConvolutionRoute.PaddedChannels);
            Assert.True(LibTorchNative.OneDnnEnabled);
        }
        finally
        {
            Convolution.Force(null);
        }
        Assert.True(LibTorchNative.OneDnnEnabled);
        Assert.DoesNotContain("set by the program", Convolution.Describe());
    }

    [Fact]
    public void TheSelfCheckSilencesLibtorchsWarnings()
    {
        _ = Convolution.Check();
        Assert.Equal(2, LibTorchNative.LogLevel); // errors only: no "Could not initialize NNPACK!" on every convolution
    }

    [Fact]
    public void SafeConv2dHasNnConv2dsParametersAndDraws()
    {
        torch.manual_seed(11);
        using var reference = nn.Conv2d(5, 7, 3, padding: 1);
        torch.manual_seed(11);
        using var safe = new SafeConv2d(5, 7, 3, padding: 1);
        var names = safe.named_parameters().Select(p => p.name).ToArray();
        Assert.Equal(["weight", "bias"], names);
        Assert.True(safe.Weight.equal(reference.weight!).all().item<bool>());
        Assert.True(safe.Bias!.equal(reference.bias!).all().item<bool>());
        using var x = randn(2, 5, 6, 6);
        using var expected = reference.forward(x);
        using var y = safe.forward(x);
        Assert.True((y - expected).abs().max().item<float>() < 1e-5);
        safe.to(ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, safe.Weight.dtype);
        Assert.Equal(ScalarType.BFloat16, safe.named_parameters().First().parameter.dtype);
        using var none = new SafeConv2d(5, 7, 1, bias: false);
        Assert.Equal(["weight"], none.named_parameters().Select(p => p.name).ToArray());
    }
}
