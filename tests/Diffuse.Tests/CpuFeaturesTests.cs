using Diffuse.Api;
using Diffuse.Configuration;
using Xunit;

namespace Diffuse.Tests;

public class CpuFeaturesTests
{
    [Fact]
    public void TheFlagsLineDecidesBFloat16()
    {
        Assert.True(CpuFeatures.HasBFloat16Flag(["processor\t: 0", "flags\t\t: fpu avx512f avx512_bf16 sha_ni", "bugs\t\t: none"]));
        Assert.True(CpuFeatures.HasBFloat16Flag(["flags\t\t: fpu amx_bf16 amx_tile"]));
        Assert.False(CpuFeatures.HasBFloat16Flag(["flags\t\t: fpu avx512f avx512bw avx512_vnni"]));
        // A flag's name inside another's is not the flag; no flags line is no bfloat16.
        Assert.False(CpuFeatures.HasBFloat16Flag(["flags\t\t: fpu xavx512_bf16x"]));
        Assert.False(CpuFeatures.HasBFloat16Flag(["processor\t: 0"]));
    }

    [Fact]
    public void ImagesTrainInBFloat16WhereTheCpuComputesIt()
    {
        bool bf16 = File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").Any(l => l.StartsWith("flags") && (l.Contains(" avx512_bf16") || l.Contains(" amx_bf16")));
        Assert.Equal(bf16, CpuFeatures.HasBFloat16);
        Assert.Equal(bf16 ? TrainingPrecision.Bf16 : TrainingPrecision.Fp32, Defaults.ImageTraining.Precision);
        Assert.Equal(TrainingPrecision.Fp32, Defaults.PointTraining.Precision);
    }
}
