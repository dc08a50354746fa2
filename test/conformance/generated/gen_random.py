"""Generates conformance cases for the random ops (RandomUniform[Like],
RandomNormal[Like], Bernoulli, training Dropout, and an output derived from a
random one). The expected values are numpy draws: lathe-conformance checks
these outputs for plausibility (RandomCheck.h), not equality.

    python3 gen_random.py OUT_DIR
    lathe-conformance --data OUT_DIR
"""
import numpy as np, onnx, os, shutil, sys
from onnx import helper, numpy_helper, TensorProto
OUT = sys.argv[1]
shutil.rmtree(OUT, ignore_errors=True)
def case(name, nodes, ins, outs, feeds, expected, opset=15):
    g=helper.make_graph(nodes,name,[helper.make_tensor_value_info(n,t,s) for n,t,s in ins],[helper.make_tensor_value_info(n,t,s) for n,t,s in outs])
    m=helper.make_model(g,opset_imports=[helper.make_opsetid('',opset)]); onnx.checker.check_model(m)
    d=os.path.join(OUT,name); os.makedirs(d+'/test_data_set_0'); onnx.save(m,d+'/model.onnx')
    for i,(n,v) in enumerate(feeds): onnx.save_tensor(numpy_helper.from_array(v,n), f'{d}/test_data_set_0/input_{i}.pb')
    for i,(n,v) in enumerate(expected): onnx.save_tensor(numpy_helper.from_array(v,n), f'{d}/test_data_set_0/output_{i}.pb')
r=np.random.RandomState(0)
case('r_uniform',[helper.make_node('RandomUniform',[],['y'],shape=[50,40],low=-3.0,high=5.0,seed=2.0)],[],[('y',1,[50,40])],[],[('y',r.uniform(-3,5,(50,40)).astype(np.float32))])
case('r_uniform_double',[helper.make_node('RandomUniform',[],['y'],shape=[7],dtype=11)],[],[('y',11,[7])],[],[('y',r.uniform(0,1,(7,)))])
case('r_normal',[helper.make_node('RandomNormal',[],['y'],shape=[30,30],mean=2.0,scale=0.5)],[],[('y',1,[30,30])],[],[('y',r.normal(2,0.5,(30,30)).astype(np.float32))])
x=r.randn(20,30).astype(np.float32)
case('r_uniform_like',[helper.make_node('RandomUniformLike',['x'],['y'],low=1.0,high=2.0,dtype=11)],[('x',1,[20,30])],[('y',11,[20,30])],[('x',x)],[('y',r.uniform(1,2,(20,30)))])
case('r_normal_like',[helper.make_node('RandomNormalLike',['x'],['y'],seed=5.0)],[('x',1,[20,30])],[('y',1,[20,30])],[('x',x)],[('y',r.randn(20,30).astype(np.float32))])
p=r.uniform(0,1,(1000,)).astype(np.float32); p[:5]=0; p[5:10]=1
case('r_bernoulli_int',[helper.make_node('Bernoulli',['p'],['y'],dtype=7)],[('p',1,[1000])],[('y',7,[1000])],[('p',p)],[('y',(r.uniform(0,1,1000)<p).astype(np.int64))])
case('r_bernoulli_bool',[helper.make_node('Bernoulli',['p'],['y'],dtype=9,seed=1.0)],[('p',1,[1000])],[('y',9,[1000])],[('p',p)],[('y',(r.uniform(0,1,1000)<p))])
xd=r.randn(40,50).astype(np.float64)
mask=r.uniform(0,1,xd.shape)>=0.3
case('r_dropout_double',[helper.make_node('Dropout',['x','r','t'],['y','m'],seed=3)],[('x',11,[40,50]),('r',1,[]),('t',9,[])],[('y',11,[40,50]),('m',9,[40,50])],
     [('x',xd),('r',np.array(0.3,np.float32)),('t',np.array(True))],[('y',xd*mask/(0.7)),('m',mask)])
case('r_dropout_notraining',[helper.make_node('Dropout',['x','r','t'],['y','m'])],[('x',11,[40,50]),('r',1,[]),('t',9,[])],[('y',11,[40,50]),('m',9,[40,50])],
     [('x',xd),('r',np.array(0.3,np.float32)),('t',np.array(False))],[('y',xd),('m',np.ones(xd.shape,bool))])
case('r_dropout_noratio',[helper.make_node('Dropout',['x','','t'],['y'])],[('x',11,[40,50]),('t',9,[])],[('y',11,[40,50])],
     [('x',xd),('t',np.array(True))],[('y',xd*(r.uniform(0,1,xd.shape)>=0.5)*2)])
# derived: relu of a normal
case('r_derived',[helper.make_node('RandomNormal',[],['n'],shape=[100]),helper.make_node('Relu',['n'],['y'])],[],[('y',1,[100])],[],[('y',np.maximum(r.randn(100),0).astype(np.float32))])
print('ok')
